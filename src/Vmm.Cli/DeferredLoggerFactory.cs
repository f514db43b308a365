using Microsoft.Extensions.Logging;

namespace Vmm.Cli;

/// <summary>
/// A logger factory that builds the real one (console logging: a service container, options and a writer thread)
/// only when something is logged at an enabled level, so a run that has nothing to say at the default level does
/// not pay for it before its first vCPU entry.
/// </summary>
internal sealed class DeferredLoggerFactory : ILoggerFactory
{
    private readonly LogLevel _minimumLevel;
    private readonly Lazy<ILoggerFactory> _factory;
    private bool _disposed;

    /// <summary>Defers <paramref name="create"/>, which must log at <paramref name="minimumLevel"/> and above.</summary>
    public DeferredLoggerFactory(LogLevel minimumLevel, Func<ILoggerFactory> create)
    {
        _minimumLevel = minimumLevel;
        _factory = new Lazy<ILoggerFactory>(create, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new DeferredLogger(this, categoryName);

    /// <inheritdoc/>
    public void AddProvider(ILoggerProvider provider) => _factory.Value.AddProvider(provider);

    /// <inheritdoc/>
    public void Dispose()
    {
        _disposed = true;
        if (_factory.IsValueCreated)
        {
            _factory.Value.Dispose();
        }
    }

    private bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= _minimumLevel && !_disposed;

    /// <summary>A logger whose real logger is made on its first enabled message.</summary>
    private sealed class DeferredLogger(DeferredLoggerFactory owner, string categoryName) : ILogger
    {
        private ILogger? _logger;

        private ILogger Logger => _logger ??= owner._factory.Value.CreateLogger(categoryName);

        public bool IsEnabled(LogLevel logLevel) => owner.IsEnabled(logLevel);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => Logger.BeginScope(state);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (owner.IsEnabled(logLevel))
            {
                Logger.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
