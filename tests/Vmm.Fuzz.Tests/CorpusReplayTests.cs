using Vmm.Fuzz.Harness;
using Vmm.Testing;
using Xunit;

namespace Vmm.Fuzz.Tests;

/// <summary>
/// Every seed under tools/fuzz/corpus/TARGET/ and every crash repro under tools/fuzz/repro/TARGET/ replays through
/// its harness, twice: the harness returns (the input was accepted, or refused with the target's typed error) instead of
/// throwing (a finding). A repro stays here after its fix as the regression test.
/// </summary>
public sealed class CorpusReplayTests
{
    /// <summary>(target, file relative to tools/fuzz) for every corpus and repro file.</summary>
    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        string root = FuzzRoot();
        foreach (string kind in new[] { "corpus", "repro" })
        {
            string directory = Path.Combine(root, kind);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            foreach (string file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                string relative = Path.GetRelativePath(root, file);
                string target = relative.Split(Path.DirectorySeparatorChar)[1];
                data.Add(target, relative);
            }
        }

        return data;
    }

    [Fact]
    public void Every_target_has_a_seed_corpus()
    {
        string corpus = Path.Combine(FuzzRoot(), "corpus");
        foreach (string name in FuzzTargets.Names)
        {
            string directory = Path.Combine(corpus, name);
            Assert.True(Directory.Exists(directory) && Directory.EnumerateFiles(directory).Any(), $"no seeds in {directory}");
        }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void The_input_replays_without_a_finding(string target, string file)
    {
        using FuzzTarget? harness = FuzzTargets.Create(target);
        Assert.NotNull(harness);
        byte[] input = File.ReadAllBytes(Path.Combine(FuzzRoot(), file));

        // Twice in one harness, as afl runs input after input in one process: what an input leaves behind must not
        // fail the next (finding 7: a share entry .NET could not delete failed every later input).
        Assert.Null(Record.Exception(() => harness.Run(input)));
        Assert.Null(Record.Exception(() => harness.Run(input)));
    }

    private static string FuzzRoot() => Path.Combine(SourceTree.Root, "tools", "fuzz");
}
