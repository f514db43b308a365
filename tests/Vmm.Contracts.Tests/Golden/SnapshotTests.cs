using System.Text;
using Vmm.Testing.Golden;

namespace Vmm.Contracts.Tests.Golden;

[Collection(SnapshotEnvironmentCollection.Name)]
public sealed class SnapshotTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "vmm-snapshot-tests-" + Guid.NewGuid().ToString("N"));

    public SnapshotTests()
    {
        Directory.CreateDirectory(_directory);
        Assert.False(Snapshot.IsUpdating, "Run the snapshot helper's own tests without UPDATE_SNAPSHOTS.");
    }

    private string Verified => Path.Combine(_directory, "SnapshotTests.Case.verified.txt");

    private string Received => Path.Combine(_directory, "SnapshotTests.Case.received.txt");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Files_are_named_after_the_calling_file_and_method_next_to_the_test()
    {
        SnapshotMismatchException e = Assert.Throws<SnapshotMismatchException>(
            () => Snapshot.Verify("x", new SnapshotSettings { Directory = _directory }));

        Assert.Equal(Path.Combine(_directory, "SnapshotTests.Files_are_named_after_the_calling_file_and_method_next_to_the_test.received.txt"), e.ReceivedPath);
        Assert.EndsWith(".verified.txt", e.VerifiedPath, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_verified_file_the_received_one_is_written_and_the_message_says_how_to_accept()
    {
        SnapshotMismatchException e = Assert.Throws<SnapshotMismatchException>(() => Verify("hello\r\nworld\n"));

        Assert.Equal(Received, e.ReceivedPath);
        Assert.Equal([0xEF, 0xBB, 0xBF, .. "hello\nworld"u8.ToArray()], File.ReadAllBytes(Received));
        Assert.Contains("There is no verified snapshot yet", e.Message, StringComparison.Ordinal);
        Assert.Contains($"received: {Received}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"verified: {Verified}", e.Message, StringComparison.Ordinal);
        Assert.Contains("UPDATE_SNAPSHOTS=1", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Verified));
    }

    [Fact]
    public void A_matching_snapshot_passes_and_removes_a_stale_received_file()
    {
        File.WriteAllText(Verified, "line 1\nline 2", new UTF8Encoding(true));
        File.WriteAllText(Received, "old");

        Verify("line 1\r\nline 2\n");

        Assert.False(File.Exists(Received));
    }

    [Fact]
    public void A_mismatch_writes_received_and_names_the_first_different_line()
    {
        File.WriteAllText(Verified, "same\nold", new UTF8Encoding(true));

        SnapshotMismatchException e = Assert.Throws<SnapshotMismatchException>(() => Verify("same\nnew"));

        Assert.Contains("First difference at line 2:\n  verified: old\n  received: new", e.Message, StringComparison.Ordinal);
        Assert.Equal("same\nnew", File.ReadAllText(Received));
        Assert.Equal("same\nold", File.ReadAllText(Verified));
    }

    [Fact]
    public void UPDATE_SNAPSHOTS_accepts_by_writing_the_verified_file()
    {
        File.WriteAllText(Verified, "old", new UTF8Encoding(true));
        File.WriteAllText(Received, "old received");
        Environment.SetEnvironmentVariable(Snapshot.UpdateVariable, "1");
        try
        {
            Verify("new");
        }
        finally
        {
            Environment.SetEnvironmentVariable(Snapshot.UpdateVariable, null);
        }

        Assert.Equal([0xEF, 0xBB, 0xBF, .. "new"u8.ToArray()], File.ReadAllBytes(Verified));
        Assert.False(File.Exists(Received));
        Verify("new");
    }

    [Fact]
    public void Binary_snapshots_compare_bytes_and_use_their_extension()
    {
        var settings = new SnapshotSettings { Directory = _directory, MethodName = "Bytes", BinaryExtension = "bin" };
        string verified = Path.Combine(_directory, "SnapshotTests.Bytes.verified.bin");
        File.WriteAllBytes(verified, [1, 2, 3]);

        Snapshot.VerifyBinary([1, 2, 3], settings);
        SnapshotMismatchException e = Assert.Throws<SnapshotMismatchException>(() => Snapshot.VerifyBinary([1, 2, 4, 5], settings));

        Assert.Equal(Path.Combine(_directory, "SnapshotTests.Bytes.received.bin"), e.ReceivedPath);
        Assert.Equal([1, 2, 4, 5], File.ReadAllBytes(e.ReceivedPath));
        Assert.Contains("differ from byte 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parameters_tell_theory_cases_apart()
    {
        var settings = new SnapshotSettings { Directory = _directory, TypeName = "T", MethodName = "M", Parameters = "case1" };

        SnapshotMismatchException e = Assert.Throws<SnapshotMismatchException>(() => Snapshot.Verify("x", settings));

        Assert.Equal(Path.Combine(_directory, "T.M_case1.received.txt"), e.ReceivedPath);
    }

    [Fact]
    public void Path_scrubbers_replace_the_longest_directory_first()
    {
        string temp = Path.TrimEndingDirectorySeparator(Path.GetTempPath());
        var settings = new SnapshotSettings().ScrubTempPath().ScrubPath(_directory, "TestDir");

        string scrubbed = settings.Scrub($"{_directory}/a.sock and {temp}/other");

        Assert.Equal("{TestDir}/a.sock and {TempPath}/other", scrubbed);
    }

    [Fact]
    public void Guids_and_timestamps_are_numbered_by_first_appearance()
    {
        var settings = new SnapshotSettings().ScrubGuids().ScrubTimestamps();

        string scrubbed = settings.Scrub(
            "a 0f8fad5b-d9cb-469f-a165-70867728950e b 7c9e6679-7425-40de-944b-e07fc1f90ae7 c 0F8FAD5B-D9CB-469F-A165-70867728950E "
                + "at 2026-11-22T02:55:39.123Z and 2026-11-22 03:00:00+01:00");

        Assert.Equal("a {Guid_1} b {Guid_2} c {Guid_1} at {Timestamp_1} and {Timestamp_2}", scrubbed);
    }

    [Fact]
    public void Durations_and_file_descriptors_become_placeholders()
    {
        var settings = new SnapshotSettings().ScrubDurations().ScrubFileDescriptors();

        string scrubbed = settings.Scrub("took 12 ms, then 1.5s, elapsed 00:00:01.25; fd 7, fd=12, FD:3, offset 7");

        Assert.Equal("took {Duration}, then {Duration}, elapsed {Duration}; fd {fd}, fd={fd}, FD:{fd}, offset 7", scrubbed);
    }

    [Fact]
    public void Custom_scrubbers_run_after_paths_and_before_the_built_in_ones()
    {
        var settings = new SnapshotSettings()
            .ScrubPath(_directory, "Dir")
            .AddScrubber(text => text.Replace("{Dir}", "<dir>", StringComparison.Ordinal))
            .ScrubGuids();

        string scrubbed = settings.Scrub($"{_directory} 0f8fad5b-d9cb-469f-a165-70867728950e");

        Assert.Equal("<dir> {Guid_1}", scrubbed);
    }

    [Fact]
    public void Scrubbed_text_is_what_gets_compared()
    {
        File.WriteAllText(Verified, "id {Guid_1}", new UTF8Encoding(true));

        Verify($"id {Guid.NewGuid()}", new SnapshotSettings().ScrubGuids());
    }

    private void Verify(string text, SnapshotSettings? settings = null)
    {
        settings ??= new SnapshotSettings();
        settings.Directory = _directory;
        settings.MethodName = "Case";
        Snapshot.Verify(text, settings);
    }
}
