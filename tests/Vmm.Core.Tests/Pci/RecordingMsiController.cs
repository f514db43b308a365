using Vmm.Core.Interrupts;

namespace Vmm.Core.Tests.Pci;

internal sealed class RecordingMsiController : IMsiController
{
    public List<RecordingVector> Vectors { get; } = [];

    public IMsiVector CreateVector()
    {
        var vector = new RecordingVector();
        Vectors.Add(vector);
        return vector;
    }

    internal sealed class RecordingVector : IMsiVector
    {
        private int _signals;

        public ulong Address { get; private set; }

        public uint Data { get; private set; }

        public int Signals => Volatile.Read(ref _signals);

        public bool Disposed { get; private set; }

        public void Configure(ulong address, uint data)
        {
            Address = address;
            Data = data;
        }

        public void Signal() => Interlocked.Increment(ref _signals);

        public void Dispose() => Disposed = true;
    }
}
