using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Contracts.Display;
using Vmm.Core.Display;

namespace Vmm.Core.Control;

/// <summary>
/// <c>screenshot</c>: writes the picture a snapshot-capable display sink (<see cref="IDisplaySnapshotSink"/>, e.g.
/// <c>display-png</c>) holds to a file. Args: <c>{"path":"/abs/shot.png","sink":"png0"}</c>; <c>path</c> must be
/// absolute (the VM's working folder is not the caller's), <c>sink</c> is optional (the first attached
/// snapshot-capable sink, else the first registered one; with none, a temporary <c>display-png</c> sink is attached
/// for the active source's next full frame, so a VM whose only sink is VNC, or that has none, can be shot too). Result:
/// <c>{"sink":"png0","path":"/abs/shot.png","format":"png","width":1280,"height":800,"frameSequence":42}</c>.
/// </summary>
public sealed class ScreenshotCommand : IControlCommand
{
    /// <summary>The error code when <c>sink</c> names no display sink.</summary>
    public const string NoSuchSinkCode = "no-such-sink";

    /// <summary>The error code when no snapshot-capable sink is configured, or the named one cannot write snapshots.</summary>
    public const string NoSnapshotSinkCode = "no-snapshot-sink";

    /// <summary>The error code when the sink has not received a frame yet (nothing is written).</summary>
    public const string NoFrameCode = "no-frame";

    /// <summary>The error code when the file cannot be written.</summary>
    public const string PathNotWritableCode = "path-not-writable";

    /// <summary>The sink type a screenshot makes for itself when the VM has no snapshot-capable sink.</summary>
    public const string TemporarySinkType = "display-png";

    // How long a temporary sink waits for the source to resend a full frame (a worker thread's turn, not a guest's).
    private static readonly TimeSpan s_firstFrameTimeout = TimeSpan.FromSeconds(5);

    private readonly DisplayRouter _router;
    private readonly RuntimeDisplaySinks? _temporarySinks;

    /// <summary>
    /// Creates the command over the sinks registered with <paramref name="router"/>; with
    /// <paramref name="temporarySinks"/>, a VM without a snapshot-capable sink gets a temporary one per screenshot.
    /// </summary>
    public ScreenshotCommand(DisplayRouter router, RuntimeDisplaySinks? temporarySinks = null)
    {
        ArgumentNullException.ThrowIfNull(router);
        _router = router;
        _temporarySinks = temporarySinks;
    }

    /// <inheritdoc />
    public string Name => "screenshot";

    /// <inheritdoc />
    public string Description => "Writes the display's current picture to a file through a snapshot-capable sink.";

    /// <inheritdoc />
    public async ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken)
    {
        string path = ReadPath(args);
        string? sinkId = ReadSinkId(args);
        if (sinkId is null && _temporarySinks is not null && !_router.Sinks.OfType<IDisplaySnapshotSink>().Any())
        {
            return await ShootThroughTemporarySinkAsync(_temporarySinks, path, cancellationToken).ConfigureAwait(false);
        }

        IDisplaySnapshotSink sink = FindSink(sinkId);
        return await WriteAsync(sink, sink.Id, path, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<JsonObject> WriteAsync(IDisplaySnapshotSink sink, string reportedId, string path, CancellationToken cancellationToken)
    {
        DisplaySnapshotInfo? written;
        try
        {
            written = await sink.WriteSnapshotAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ControlCommandException(PathNotWritableCode, $"display sink '{reportedId}' could not write '{path}': {ex.Message}");
        }

        if (written is not { } info)
        {
            throw new ControlCommandException(NoFrameCode, $"display sink '{reportedId}' has no frame yet (the guest has not shown anything); nothing was written");
        }

        return new JsonObject
        {
            ["sink"] = reportedId,
            ["path"] = path,
            ["format"] = sink.SnapshotFormat,
            ["width"] = info.Width,
            ["height"] = info.Height,
            ["frameSequence"] = info.FrameSequence,
        };
    }

    // Attaching a sink makes the active source resend its mode and a full frame: the temporary sink takes that
    // frame, writes it and goes, so no sink pays for copying frames between screenshots.
    private async Task<JsonNode?> ShootThroughTemporarySinkAsync(RuntimeDisplaySinks temporarySinks, string path, CancellationToken cancellationToken)
    {
        string? source = _router.ActiveSourceId
            ?? throw new ControlCommandException(NoFrameCode, "the VM has no active display source; nothing was written");
        IDisplaySink made;
        try
        {
            made = temporarySinks.CreateTemporary(TemporarySinkType, "screenshot");
        }
        catch (ControlCommandException ex) when (ex.Code == RuntimeDisplaySinks.UnknownDeviceTypeCode)
        {
            throw new ControlCommandException(NoSnapshotSinkCode, $"the VM has no snapshot-capable display sink, and no loaded plugin provides '{TemporarySinkType}' to make one (load the display plugin)");
        }

        if (made is not IDisplaySnapshotSink snapshotSink)
        {
            made.Dispose();
            throw new ControlCommandException(NoSnapshotSinkCode, $"device type '{TemporarySinkType}' cannot write snapshots");
        }

        using (snapshotSink)
        {
            var waiting = new FirstFrameSink(snapshotSink);
            _router.AddSink(waiting, attach: true);
            try
            {
                try
                {
                    await waiting.FirstFrame.WaitAsync(s_firstFrameTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    throw new ControlCommandException(
                        NoFrameCode,
                        $"display source '{source}' sent no frame within {s_firstFrameTimeout.TotalSeconds:0} s (the guest has not shown anything); nothing was written");
                }
            }
            finally
            {
                _router.RemoveSink(waiting.Id);
            }

            JsonObject result = await WriteAsync(snapshotSink, $"(temporary, of source '{source}')", path, cancellationToken).ConfigureAwait(false);
            result["sink"] = null;
            result["source"] = source;
            return result;
        }
    }

    private static string ReadPath(JsonElement args)
    {
        if (!args.TryGetProperty("path", out JsonElement value) || value.ValueKind != JsonValueKind.String
            || !ControlRequest.TryGetString(value, out string? path) || path.Length == 0)
        {
            throw Invalid("path", "expected an absolute file path string");
        }

        if (!Path.IsPathFullyQualified(path))
        {
            throw Invalid("path", $"expected an absolute path (the VM's working folder is not yours), got '{path}'");
        }

        return path;
    }

    private static string? ReadSinkId(JsonElement args)
    {
        if (!args.TryGetProperty("sink", out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String || !ControlRequest.TryGetString(value, out string? sinkId) || sinkId.Length == 0)
        {
            throw Invalid("sink", "expected a display sink id string");
        }

        return sinkId;
    }

    private IDisplaySnapshotSink FindSink(string? sinkId)
    {
        IReadOnlyList<IDisplaySink> sinks = _router.Sinks;
        List<string> capable = [.. sinks.OfType<IDisplaySnapshotSink>().Select(s => s.Id)];
        string capableText = capable.Count == 0 ? "none" : string.Join(", ", capable);
        if (sinkId is not null)
        {
            IDisplaySink sink = sinks.FirstOrDefault(s => s.Id == sinkId)
                ?? throw new ControlCommandException(NoSuchSinkCode, $"the VM has no display sink with id '{sinkId}' (sinks: {(sinks.Count == 0 ? "none" : string.Join(", ", sinks.Select(s => s.Id)))})");
            return sink as IDisplaySnapshotSink
                ?? throw new ControlCommandException(NoSnapshotSinkCode, $"display sink '{sinkId}' cannot write snapshots (snapshot-capable sinks: {capableText})");
        }

        // Prefer a sink that is attached (it sees the active source) over one that is only registered.
        IReadOnlyList<string> attached = _router.SinkIds;
        IDisplaySnapshotSink? chosen = sinks.OfType<IDisplaySnapshotSink>().FirstOrDefault(s => attached.Contains(s.Id))
            ?? sinks.OfType<IDisplaySnapshotSink>().FirstOrDefault();
        return chosen ?? throw new ControlCommandException(NoSnapshotSinkCode, "the VM has no snapshot-capable display sink; add a display-png device to the config");
    }

    private static ControlCommandException Invalid(string member, string message) =>
        new(ControlErrorCodes.InvalidArguments, $"args.{member}: {message}");
}
