using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Contracts.Display;
using Vmm.Core.Display;

namespace Vmm.Core.Control;

/// <summary>
/// <c>screenshot</c>: writes the picture a snapshot-capable display sink (<see cref="IDisplaySnapshotSink"/>, e.g.
/// <c>display-png</c>) holds to a file. Args: <c>{"path":"/abs/shot.png","sink":"png0"}</c>; <c>path</c> must be
/// absolute (the VM's working folder is not the caller's), <c>sink</c> is optional (the first attached
/// snapshot-capable sink, else the first registered one). Result:
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

    private readonly DisplayRouter _router;

    /// <summary>Creates the command over the sinks registered with <paramref name="router"/>.</summary>
    public ScreenshotCommand(DisplayRouter router)
    {
        ArgumentNullException.ThrowIfNull(router);
        _router = router;
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
        IDisplaySnapshotSink sink = FindSink(sinkId);
        DisplaySnapshotInfo? written;
        try
        {
            written = await sink.WriteSnapshotAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ControlCommandException(PathNotWritableCode, $"display sink '{sink.Id}' could not write '{path}': {ex.Message}");
        }

        if (written is not { } info)
        {
            throw new ControlCommandException(NoFrameCode, $"display sink '{sink.Id}' has no frame yet (the guest has not shown anything); nothing was written");
        }

        return new JsonObject
        {
            ["sink"] = sink.Id,
            ["path"] = path,
            ["format"] = sink.SnapshotFormat,
            ["width"] = info.Width,
            ["height"] = info.Height,
            ["frameSequence"] = info.FrameSequence,
        };
    }

    private static string ReadPath(JsonElement args)
    {
        if (!args.TryGetProperty("path", out JsonElement value) || value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
        {
            throw Invalid("path", "expected an absolute file path string");
        }

        string path = value.GetString()!;
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

        if (value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
        {
            throw Invalid("sink", "expected a display sink id string");
        }

        return value.GetString();
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
