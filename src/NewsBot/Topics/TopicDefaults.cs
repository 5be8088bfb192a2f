namespace NewsBot.Topics;

/// <summary>
/// The topics used when <c>NewsBot:Topics</c> is not configured, chosen for a blog of English commentary on
/// Japanese politics and security. Keywords are stemmed, so "sanction" covers "sanctions" and "sanctioned";
/// a few Japanese keywords catch posts that quote Japanese terms.
/// </summary>
public static class TopicDefaults
{
    public static IReadOnlyList<TopicOptions> All { get; } =
    [
        Topic(
            "sanctions",
            ["sanction", "embargo", "asset freeze", "export ban", "export control", "import ban", "blacklist", "制裁"],
            ["Sanctions", "Economic Sanctions", "Embargo"]),
        Topic(
            "nuclear",
            ["nuclear", "uranium", "plutonium", "reactor", "radioactive", "denuclearization", "nuclear waste",
                "final disposal", "NUMO", "IAEA", "原発", "核兵器"],
            ["Nuclear", "Nuclear Power", "Nuclear Energy", "Nuclear Waste", "Nuclear Weapons"]),
        Topic(
            "north-korea",
            ["north korea", "north korean", "DPRK", "Pyongyang", "Kim Jong Un", "Kim Il Sung", "Kim Yo Jong",
                "Democratic People's Republic of Korea", "北朝鮮"],
            ["DPRK"]),
        Topic(
            "russia",
            ["Russia", "Russian", "Putin", "Kremlin", "Moscow", "Soviet Union", "Lavrov", "ロシア"],
            []),
        Topic(
            "ukraine",
            ["Ukraine", "Ukrainian", "Kyiv", "Kiev", "Zelensky", "Zelenskyy", "Donbas", "Crimea", "ウクライナ"],
            ["War in Ukraine"]),
        Topic(
            "china",
            ["China", "Chinese", "Beijing", "Xi Jinping", "People's Republic of China", "Senkaku", "Taiwan Strait",
                "中国"],
            ["PRC"]),
        Topic(
            "japan-politics",
            ["Prime Minister", "Cabinet", "Diet", "House of Representatives", "House of Councillors", "Upper House",
                "Lower House", "Liberal Democratic Party", "LDP", "Komeito", "Constitutional Democratic Party",
                "election", "Kishida", "Ishiba", "Kantei", "Nagatacho", "国会", "首相"],
            ["Japanese Politics", "Politics", "Elections", "Election", "Diet"]),
        Topic(
            "abduction",
            ["abduction", "abductee", "Megumi Yokota", "拉致"],
            ["Abductions", "Abduction Issue"]),
        Topic(
            "treaties",
            ["treaty", "ratify", "ratification", "pact", "peace treaty", "status of forces agreement", "条約"],
            ["Treaty", "Treaties"]),
        Topic(
            "local-autonomy",
            ["local autonomy", "local government", "prefecture", "prefectural", "governor", "municipality",
                "municipal", "mayor", "referendum", "地方自治"],
            ["Local Autonomy", "Local Government"]),
        Topic(
            "defense",
            ["defense", "defence", "Self-Defense Forces", "SDF", "Ministry of Defense", "military", "missile",
                "counterstrike", "deterrence", "armed forces", "war", "防衛"],
            ["Defense", "Defence", "Security", "Military"]),
        Topic(
            "trade",
            ["tariff", "trade", "export", "import", "customs duty", "supply chain", "WTO"],
            ["Trade", "Economy"]),
        Topic(
            "imperial-family",
            ["Imperial Family", "Imperial Household", "Emperor", "Empress", "Crown Prince", "Princess", "天皇"],
            ["Imperial Family", "Royal Family"]),
    ];

    private static TopicOptions Topic(string name, List<string> keywords, List<string> labels) =>
        new() { Name = name, Keywords = keywords, Labels = labels };
}
