using System.Runtime.CompilerServices;

namespace NewsBot.Tests;

internal static class TestEnvironment
{
    /// <summary>
    /// Hundreds of hosts start in one test run (in process and as child processes). Each would watch its
    /// appsettings.json with an inotify instance, and Linux allows 128 per user by default.
    /// </summary>
    [ModuleInitializer]
    internal static void DisableConfigurationWatching() =>
        Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
}
