using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Input;

namespace Vmm.Core.Input;

/// <summary>
/// Reads a host evdev device (<c>/dev/input/eventN</c>, opened read-only, not grabbed) on its own thread and
/// publishes its frames to the input router as one kind of guest device. Records are <c>struct input_event</c>
/// in host byte order: a 16-byte <c>struct timeval</c>, then le16 type, le16 code, s32 value (24 bytes on 64-bit
/// Linux). Also reads a pipe or a file of recorded events, which ends the source at end of file.
/// </summary>
/// <remarks>
/// A blocking read cannot be interrupted from managed code, so <see cref="Dispose"/> stops the reader when its
/// current read returns (the next event, end of file, or the device going away); the thread is a background
/// thread and never keeps the process alive.
/// </remarks>
public sealed class HostEvdevSource : IDisposable
{
    /// <summary>The size of <c>struct input_event</c> on 64-bit Linux.</summary>
    public const int RecordSize = 24;

    private const int TypeOffset = 16;
    private const int CodeOffset = 18;
    private const int ValueOffset = 20;
    private const ushort SynReport = 0;
    private const ushort SynDropped = 3;

    // A frame longer than this is published in pieces (the router closes each with SYN_REPORT).
    private const int MaxFrame = 256;

    private readonly Stream _stream;
    private readonly IInputRouter _router;
    private readonly ILogger _logger;
    private readonly InputEvent[] _frame = new InputEvent[MaxFrame];
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private int _frameLength;
    private bool _discardUntilReport;
    private long _published;
    private long _unrouted;
    private long _droppedFrames;
    private volatile bool _disposed;
    private int _started;

    /// <summary>Opens <paramref name="path"/> read-only; call <see cref="Start"/> to begin reading.</summary>
    public HostEvdevSource(string path, IInputRouter router, InputDeviceKind kind, string? targetId = null, ILoggerFactory? loggerFactory = null)
        : this(OpenReadOnly(path), path, router, kind, targetId, loggerFactory)
    {
    }

    /// <summary>Reads records from <paramref name="stream"/> (a pipe, a recording); takes ownership of it.</summary>
    public HostEvdevSource(Stream stream, string name, IInputRouter router, InputDeviceKind kind, string? targetId = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(router);
        _stream = stream;
        _router = router;
        Name = name;
        Kind = kind;
        TargetId = targetId;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(InputRouter.MeterName);
        _thread = new Thread(ReadLoop) { IsBackground = true, Name = $"evdev {name}" };
    }

    /// <summary>The device path or stream name, for logs.</summary>
    public string Name { get; }

    /// <summary>The kind of guest device the events go to.</summary>
    public InputDeviceKind Kind { get; }

    /// <summary>The guest device id the events go to; null for the first device of <see cref="Kind"/>.</summary>
    public string? TargetId { get; }

    /// <summary>Events the router took (SYN_REPORTs included).</summary>
    public long PublishedEvents => Interlocked.Read(ref _published);

    /// <summary>Events no guest device took (none of that kind or id).</summary>
    public long UnroutedEvents => Interlocked.Read(ref _unrouted);

    /// <summary>Frames discarded because the kernel reported SYN_DROPPED (its buffer overflowed).</summary>
    public long DroppedFrames => Interlocked.Read(ref _droppedFrames);

    /// <summary>Completes when the reader stops: end of file, a read error (logged), or <see cref="Dispose"/>.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Starts the reader thread.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _thread.Start();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stream.Dispose();
        if (Volatile.Read(ref _started) == 0)
        {
            _completion.TrySetResult();
        }
    }

    private static FileStream OpenReadOnly(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new FileStream(handle, FileAccess.Read, bufferSize: 0);
    }

    private void ReadLoop()
    {
        byte[] buffer = new byte[RecordSize * 64];
        int filled = 0;
        try
        {
            InputSourceLog.EvdevStarted(_logger, Name, Kind);
            while (!_disposed)
            {
                int read = _stream.Read(buffer, filled, buffer.Length - filled);
                if (read == 0)
                {
                    if (filled != 0)
                    {
                        InputSourceLog.EvdevTrailingBytes(_logger, Name, filled);
                    }

                    break;
                }

                filled += read;
                int records = filled / RecordSize;
                for (int i = 0; i < records; i++)
                {
                    HandleRecord(buffer.AsSpan(i * RecordSize, RecordSize));
                }

                // A pipe may end mid-record: keep the tail for the next read.
                int consumed = records * RecordSize;
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
        }
        catch (Exception ex) when (_disposed && ex is ObjectDisposedException or IOException)
        {
            // Disposed while reading: the normal way to stop.
        }
        catch (IOException ex)
        {
            InputSourceLog.EvdevFailed(_logger, Name, ex);
        }
        finally
        {
            InputSourceLog.EvdevStopped(_logger, Name, PublishedEvents);
            _completion.TrySetResult();
        }
    }

    private void HandleRecord(ReadOnlySpan<byte> record)
    {
        // struct input_event is in host byte order.
        ushort type = MemoryMarshal.Read<ushort>(record[TypeOffset..]);
        ushort code = MemoryMarshal.Read<ushort>(record[CodeOffset..]);
        int value = MemoryMarshal.Read<int>(record[ValueOffset..]);
        if (type == InputEventTypes.Syn && code == SynDropped)
        {
            // The kernel lost events: everything up to the next SYN_REPORT is incomplete (evdev's documented rule).
            _frameLength = 0;
            _discardUntilReport = true;
            Interlocked.Increment(ref _droppedFrames);
            return;
        }

        bool report = type == InputEventTypes.Syn && code == SynReport;
        if (_discardUntilReport)
        {
            _discardUntilReport = !report;
            return;
        }

        _frame[_frameLength++] = new InputEvent(type, code, value);
        if (report || _frameLength == _frame.Length)
        {
            Flush();
        }
    }

    private void Flush()
    {
        ReadOnlySpan<InputEvent> frame = _frame.AsSpan(0, _frameLength);
        _frameLength = 0;
        if (_router.Publish(Kind, frame, TargetId))
        {
            Interlocked.Add(ref _published, frame.Length);
        }
        else
        {
            Interlocked.Add(ref _unrouted, frame.Length);
        }
    }
}
