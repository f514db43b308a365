namespace Vmm.Testing.Golden;

/// <summary>
/// How one snapshot is named and scrubbed. Scrubbers run in this order: directory paths (longest first), the
/// custom scrubbers in the order added, then the built-in ones that were switched on (GUIDs, timestamps,
/// durations, file descriptors).
/// </summary>
public sealed class SnapshotSettings
{
    private readonly List<(string Directory, string Name)> _paths = [];
    private readonly List<Func<string, string>> _scrubbers = [];
    private bool _guids;
    private bool _timestamps;
    private bool _durations;
    private bool _fileDescriptors;

    /// <summary>The type part of the file name; default: the calling source file's name without extension.</summary>
    public string? TypeName { get; set; }

    /// <summary>The method part of the file name; default: the calling member's name.</summary>
    public string? MethodName { get; set; }

    /// <summary>Appended to the method name with <c>_</c> to tell theory cases apart.</summary>
    public string? Parameters { get; set; }

    /// <summary>The folder snapshot files live in; default: the calling source file's folder.</summary>
    public string? Directory { get; set; }

    /// <summary>The extension of binary snapshots (<c>.verified.&lt;ext&gt;</c>); default <c>bin</c>.</summary>
    public string BinaryExtension { get; set; } = "bin";

    /// <summary>Replaces <paramref name="directory"/> (and anything below it) with <c>{<paramref name="name"/>}</c>.</summary>
    public SnapshotSettings ScrubPath(string directory, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(name);
        _paths.Add((Path.TrimEndingDirectorySeparator(directory), "{" + name + "}"));
        return this;
    }

    /// <summary>Replaces the temp folder with <c>{TempPath}</c>.</summary>
    public SnapshotSettings ScrubTempPath() => ScrubPath(Path.GetTempPath(), "TempPath");

    /// <summary>Numbers GUIDs: <c>{Guid_1}</c>, <c>{Guid_2}</c>, ...</summary>
    public SnapshotSettings ScrubGuids()
    {
        _guids = true;
        return this;
    }

    /// <summary>Numbers ISO 8601 timestamps: <c>{Timestamp_1}</c>, ...</summary>
    public SnapshotSettings ScrubTimestamps()
    {
        _timestamps = true;
        return this;
    }

    /// <summary>Replaces durations (<c>12 ms</c>, <c>00:00:01.5</c>) with <c>{Duration}</c>.</summary>
    public SnapshotSettings ScrubDurations()
    {
        _durations = true;
        return this;
    }

    /// <summary>Replaces file descriptor numbers (<c>fd 7</c>, <c>fd=7</c>) with <c>{fd}</c>.</summary>
    public SnapshotSettings ScrubFileDescriptors()
    {
        _fileDescriptors = true;
        return this;
    }

    /// <summary>Adds a custom scrubber; it sees the text after the path scrubbers.</summary>
    public SnapshotSettings AddScrubber(Func<string, string> scrubber)
    {
        ArgumentNullException.ThrowIfNull(scrubber);
        _scrubbers.Add(scrubber);
        return this;
    }

    /// <summary>Applies every scrubber to <paramref name="text"/>.</summary>
    public string Scrub(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach ((string directory, string name) in _paths.OrderByDescending(p => p.Directory.Length))
        {
            text = text.Replace(directory, name, StringComparison.Ordinal);
        }

        foreach (Func<string, string> scrubber in _scrubbers)
        {
            text = scrubber(text);
        }

        text = _guids ? SnapshotScrubbers.Guids(text) : text;
        text = _timestamps ? SnapshotScrubbers.Timestamps(text) : text;
        text = _durations ? SnapshotScrubbers.Durations(text) : text;
        text = _fileDescriptors ? SnapshotScrubbers.FileDescriptors(text) : text;
        return text;
    }
}
