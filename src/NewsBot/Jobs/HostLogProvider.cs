using Hangfire.AspNetCore;
using Hangfire.Logging;

namespace NewsBot.Jobs;

/// <summary>
/// Hangfire's loggers from this host's logger factory, surviving another host. Hangfire keeps one log provider per
/// process (<see cref="LogProvider.SetCurrentLogProvider"/>), and every host that starts points it at its own
/// factory; when that host stops (a CLI verb run inside the service, a test host), its factory is disposed while the
/// hosts still running ask for loggers, even to enqueue a job (<c>AutomaticRetryAttribute</c>'s constructor takes
/// one), and the enqueue failed with <see cref="ObjectDisposedException"/>. A logger asked of a disposed factory
/// logs nothing instead.
/// </summary>
public sealed class HostLogProvider(ILoggerFactory loggerFactory) : ILogProvider
{
    private readonly AspNetCoreLogProvider _inner = new(loggerFactory);

    public ILog GetLogger(string name)
    {
        try
        {
            return _inner.GetLogger(name);
        }
        catch (ObjectDisposedException)
        {
            return SilentLog.Instance;
        }
    }

    private sealed class SilentLog : ILog
    {
        public static readonly SilentLog Instance = new();

        // Hangfire's ILog: false means "this level is off", so nothing is formatted for it.
        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
    }
}
