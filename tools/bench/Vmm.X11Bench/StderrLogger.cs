using Microsoft.Extensions.Logging;

/// <summary>Device and plugin messages at Debug and above on standard error, when X11BENCH_LOG=1.</summary>
internal sealed class StderrLogger : ILoggerFactory, ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Console.Error.WriteLine($"{logLevel}: {formatter(state, exception)} {exception?.Message}");

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }
}
