using BenchmarkDotNet.Running;

using NewsBot.Benchmarks.Delivery;

namespace NewsBot.Benchmarks;

/// <summary>
/// <c>-- compare</c>: the parser comparison over the corpus; <c>-- ingest</c>: the whole-ingest harness;
/// <c>-- subscribers [count] [pageSize]</c>: seeding and streaming subscribers;
/// <c>-- personalise [N]</c>: a templated email digest personalised for N subscribers;
/// <c>-- plan [n]</c>: planning a post send to n subscribers;
/// <c>-- telegram [seconds] [chats]</c>: the Telegram channel against the fake Bot API: its own overhead, at Telegram's 30/s, and the ETA check;
/// <c>-- email [count] [connections] [rounds] [none|rsa-sha256|ed25519-sha256]</c>: personalised digests through the email channel to postfix's smtp-sink, against smtp-source;
/// <c>-- instances [recipients] [maxInstances] [connectionString]</c>: one send by 1..maxInstances service processes on PostgreSQL;
/// anything else goes to BenchmarkDotNet (<c>-- --filter '*Parse*'</c>).
/// </summary>
public static class BenchmarkProgram
{
    public static async Task Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "compare":
                ParserComparison.Run();
                break;
            case "personalise":
                Templates.PersonaliseHarness.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000);
                break;
            case "ingest":
                await IngestHarness.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20);
                break;
            case "subscribers":
                await Subscribers.SubscriberHarness.RunAsync(
                    args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000,
                    args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1_000);
                break;
            case "plan":
                await PlanningHarness.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
                break;
            case "telegram":
                await Telegram.TelegramHarness.RunAsync(
                    args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 60,
                    args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1_800);
                break;
            case "email":
                Environment.ExitCode = await Email.EmailHarness.RunAsync(
                    args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000,
                    args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 4,
                    args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 5,
                    args.Length > 4 ? args[4] : "none");
                break;
            case "instances":
                Environment.ExitCode = await InstancesHarness.RunAsync(
                    args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000,
                    args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3,
                    args.Length > 3 ? args[3] : null);
                break;
            default:
                BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
                break;
        }
    }
}
