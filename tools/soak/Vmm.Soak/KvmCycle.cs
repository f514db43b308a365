using System.Text;
using Microsoft.Extensions.Logging;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Vmm.Kvm.Platform;

namespace Vmm.Soak;

/// <summary>
/// One cycle on the KVM platform, the way <c>vmm run</c> does it: a fresh run context, <see cref="VmRunner"/> (control
/// socket included), every device created, attached and torn down; the ring-3 payload drives virtio-rng through
/// PCI, MSI-X and the notify thread, prints the bytes and exits with 0.
/// </summary>
internal sealed class KvmCycle(VmSpec spec, IPluginCatalog plugins, VmRouters routers, ILoggerFactory loggerFactory) : ISoakCycle
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly ConsoleTail _console = new();

    public string Name => "kvm (ring-3 payload, every device)";

    public void Run(int cycle)
    {
        _console.Clear();
        KvmPlatform platform = new(new KvmPlatformOptions { ConsoleOutput = _console });
        VmRunContext context = new(loggerFactory, plugins, new ControlCommandRegistry()) { Routers = routers };
        using CancellationTokenSource timeout = new(s_timeout);
        VmRunResult result = VmRunner.RunAsync(spec, platform, context, timeout.Token).GetAwaiter().GetResult();
        if (result.Outcome != VmRunOutcome.Stopped || !_console.Text.Contains("rng: 16 bytes", StringComparison.Ordinal))
        {
            throw new SoakFailedException($"cycle {cycle}: the VM ended {result.Outcome} ({result.Message}); console: {_console.Text}");
        }
    }

    /// <summary>The guest's serial output of the current cycle.</summary>
    private sealed class ConsoleTail : Stream
    {
        private readonly StringBuilder _text = new();

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Clear()
        {
            lock (_text)
            {
                _text.Clear();
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_text)
            {
                _text.Append(Encoding.ASCII.GetString(buffer, offset, count));
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
