using System.Diagnostics.CodeAnalysis;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;

namespace Vmm.Cli.Tests;

/// <summary>
/// An available platform whose run returns <see cref="Result"/>, or, when it is null, runs until the control
/// socket's <c>stop</c> or cancellation. It registers <c>status</c> and <c>stop</c> as a real platform would.
/// </summary>
internal sealed class FakePlatform(string name, PlatformKind kind) : IVmPlatform, IControlledVm
{
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => name;

    public PlatformKind Kind => kind;

    public VmRunResult? Result { get; init; } = VmRunResult.Stopped;

    public VmSpec? RanWith { get; private set; }

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsAvailable([NotNullWhen(false)] out string? reason)
    {
        reason = null;
        return true;
    }

    public async Task<VmRunResult> RunAsync(VmSpec spec, VmRunContext context, CancellationToken cancellationToken)
    {
        RanWith = spec;
        context.ControlCommands.Add(new StatusCommand(this));
        context.ControlCommands.Add(new StopCommand(this));
        Started.SetResult();
        if (Result is null)
        {
            await _stop.Task.WaitAsync(cancellationToken);
            return VmRunResult.Stopped;
        }

        return Result;
    }

    public VmStatus GetStatus() => new("running", name, TimeSpan.Zero, RanWith!.Machine.Vcpus, RanWith.Machine.MemoryBytes, []);

    public void RequestStop() => _stop.TrySetResult();
}
