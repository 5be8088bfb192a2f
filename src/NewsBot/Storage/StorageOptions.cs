namespace NewsBot.Storage;

/// <summary>Where NewsBot keeps its state: everything lives under <see cref="DataDirectory"/>.</summary>
public sealed class StorageOptions
{
    public string DataDirectory { get; set; } = "./data";

    public string DatabasePath => Path.GetFullPath(Path.Combine(DataDirectory, "newsbot.db"));
}
