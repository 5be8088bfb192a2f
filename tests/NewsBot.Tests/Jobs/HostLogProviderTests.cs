using Hangfire.Logging;

using Microsoft.Extensions.Logging;

using NewsBot.Jobs;

namespace NewsBot.Tests.Jobs;

public sealed class HostLogProviderTests
{
    [Fact]
    public void AFactoryDisposedByAnotherHostsStop_GivesASilentLoggerInsteadOfThrowing()
    {
        var messages = new List<string>();
        var live = LoggerFactory.Create(b => b.AddProvider(new ListLoggerProvider(messages)).SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace));
        var stopped = LoggerFactory.Create(b => { });
        stopped.Dispose();

        var log = new HostLogProvider(live).GetLogger("Hangfire.Test");
        var silent = new HostLogProvider(stopped).GetLogger("Hangfire.AutomaticRetryAttribute");

        Assert.True(log.Log(Hangfire.Logging.LogLevel.Warn, () => "kept"));
        Assert.Contains("kept", messages);
        Assert.False(silent.Log(Hangfire.Logging.LogLevel.Error, () => "dropped"));
        live.Dispose();
    }

    private sealed class ListLoggerProvider(List<string> messages) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ListLogger(messages);

        public void Dispose()
        {
        }

        private sealed class ListLogger(List<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Add(formatter(state, exception));
        }
    }
}
