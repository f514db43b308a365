using System.Diagnostics;
using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.LgmpBench;

/// <summary>
/// One producer and one consumer over a memfd: the consumer busy-polls on its own thread (as a display source's
/// reader thread would, minus the 1 ms sleep) and the caller's thread is the producer; or, with no reader thread,
/// the caller alternates submit and poll (the protocol's own cost, without thread hand-offs and scheduling).
/// </summary>
internal sealed class Handoff : IDisposable
{
    private readonly SharedMemoryFile _file;
    private readonly SharedRegion _region;
    private readonly KvmfrProducer _producer;
    private readonly KvmfrConsumer _consumer;
    private readonly BenchHandler _handler;
    private readonly Thread? _reader;
    private readonly byte[] _pixels;
    private readonly DamageRect[] _damage;
    private volatile bool _stop;

    public Handoff(int width, int height, DamageRect? damage, bool readerThread = true)
    {
        Width = width;
        Height = height;
        long needed = (2L * width * height * 4) + (8 << 20);
        long size = 1L << (int)Math.Ceiling(Math.Log2(needed));
        _file = SharedMemoryFile.CreateAnonymous("vmm-lgmp-bench", size);
        _region = SharedRegion.Over(_file);
        _producer = new KvmfrProducer(_region, new KvmfrProducerOptions { MaxFrameWait = TimeSpan.FromMilliseconds(200) }, TimeProvider.System);
        _consumer = new KvmfrConsumer(_region, new KvmfrConsumerOptions(), TimeProvider.System);
        _handler = new BenchHandler(width, height);
        _pixels = new byte[width * height * 4];
        new Random(5).NextBytes(_pixels);
        _damage = damage is { } rect ? [rect] : [];
        Bytes = damage is { } r ? (long)r.Width * r.Height * 4 : (long)width * height * 4;
        if (readerThread)
        {
            _reader = new Thread(Read) { IsBackground = true, Name = "bench consumer" };
            _reader.Start();
        }

        var wait = Stopwatch.StartNew();
        while (!_handler.Connected)
        {
            if (_reader is null)
            {
                _consumer.Poll(_handler);
            }

            if (wait.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new InvalidOperationException($"the consumer did not join: {_consumer.LastError}");
            }

            Thread.Sleep(10);
        }

        // First frame: full, so later ones can be damage-only.
        Submit(full: true);
        WaitFor(1);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Bytes copied per frame at each end (the damage, or the whole frame).</summary>
    public long Bytes { get; }

    public long Deferred => _producer.FramesDeferred;

    /// <summary>Frames per second reaching the consumer with the producer submitting back to back.</summary>
    public double Stream(TimeSpan duration)
    {
        long start = _handler.Received;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            Submit(full: false);
            if (_reader is null)
            {
                _consumer.Poll(_handler);
            }
        }

        WaitFor(_producer.FramesPosted);
        return (_handler.Received - start) / watch.Elapsed.TotalSeconds;
    }

    /// <summary>One frame at a time: submit, wait for the consumer's copy-out; the times (µs) from submit to copied.</summary>
    public List<double> PingPong(TimeSpan duration)
    {
        var samples = new List<double>(4096);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            long before = _handler.Received;
            long t0 = Stopwatch.GetTimestamp();
            Submit(full: false);
            WaitFor(before + 1);
            samples.Add(Stopwatch.GetElapsedTime(t0, _handler.LastTimestamp).TotalMicroseconds);
        }

        return samples;
    }

    public void Dispose()
    {
        _stop = true;
        _reader?.Join();
        _producer.Dispose();
        _region.Dispose();
        _file.Dispose();
    }

    private void Submit(bool full)
    {
        _pixels[0]++;
        KvmfrSubmitResult result = _producer.SubmitFrame(Width, Height, FrameType.Bgra, _pixels, Width * 4, full ? [] : _damage);
        if (result == KvmfrSubmitResult.Invalid)
        {
            throw new InvalidOperationException("the producer refused the frame");
        }
    }

    private void WaitFor(long frames)
    {
        var wait = Stopwatch.StartNew();
        var spin = default(SpinWait);
        while (_handler.Received < frames)
        {
            if (_reader is null)
            {
                _consumer.Poll(_handler);
            }

            if (wait.Elapsed > TimeSpan.FromSeconds(5))
            {
                throw new InvalidOperationException($"the consumer stopped at {_handler.Received} of {frames} frames ({_consumer.LastError})");
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    private void Read()
    {
        var spin = default(SpinWait);
        while (!_stop)
        {
            long before = _handler.Received;
            _consumer.Poll(_handler);
            if (_handler.Received == before)
            {
                spin.SpinOnce(sleep1Threshold: -1); // idle: yield now and then, so a producer sharing the core can run
            }
            else
            {
                spin.Reset();
            }
        }
    }
}
