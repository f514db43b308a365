using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Diagnostics;
using Vmm.Core.Hosting;
using Vmm.Kvm.Boot;

namespace Vmm.Kvm.Platform;

/// <summary>
/// The <c>kvm</c> platform: our own microVM on /dev/kvm (<see cref="KvmMachine"/>). The run ends when the guest
/// writes the payload exit port, resets through the i8042 (<c>reboot=k</c>), triple-faults (<c>reboot=t</c>), when
/// KVM cannot run it (an internal error, with the registers in the message), on <c>stop</c>, or on cancellation.
/// </summary>
public sealed class KvmPlatform : IVmPlatform
{
    private readonly KvmPlatformOptions _options;

    /// <summary>Creates the platform.</summary>
    public KvmPlatform(KvmPlatformOptions? options = null) => _options = options ?? new KvmPlatformOptions();

    /// <inheritdoc/>
    public string Name => "kvm";

    /// <inheritdoc/>
    public PlatformKind Kind => PlatformKind.Kvm;

    /// <inheritdoc/>
    public bool IsAvailable([NotNullWhen(false)] out string? reason)
    {
        if (!KvmSystem.DeviceExists)
        {
            reason = $"{KvmSystem.DevicePath} does not exist: this host has no KVM";
            return false;
        }

        try
        {
            using KvmSystem system = KvmSystem.Open();
            reason = null;
            return true;
        }
        catch (KvmException exception)
        {
            reason = "KVM is not usable: " + exception.Message;
            return false;
        }
    }

    /// <inheritdoc/>
    public async Task<VmRunResult> RunAsync(VmSpec spec, VmRunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(context);
        ILogger logger = context.LoggerFactory.CreateLogger<KvmPlatform>();
        using KvmSystem system = KvmSystem.Open(context.LoggerFactory);
        KvmMachine machine;
        try
        {
            machine = KvmMachine.Create(system, spec, context, _options);
        }
        catch (Exception exception) when (exception is BootImageException or NotSupportedException or IOException)
        {
            return new VmRunResult(VmRunOutcome.VmmFailed, exception.Message);
        }

        using (machine)
        {
            context.ControlCommands.Add(new StatusCommand(machine));
            context.ControlCommands.Add(new StopCommand(machine));
            machine.Start(_options.ConsoleInput);
            KvmVmExit exit;
            using (cancellationToken.Register(() => machine.Vm.RequestStop(new KvmVmExit(KvmVmExitKind.Stopped, "Cancelled."))))
            {
                exit = await machine.Vm.Completion.ConfigureAwait(false);
            }

            StartupTrace.Mark("VM ended");
            KvmPlatformLog.Ended(logger, exit);
            cancellationToken.ThrowIfCancellationRequested();
            return ToResult(exit);
        }
    }

    /// <summary>How a VM exit reads as a run result.</summary>
    public static VmRunResult ToResult(KvmVmExit exit)
    {
        ArgumentNullException.ThrowIfNull(exit);
        return exit.Kind switch
        {
            KvmVmExitKind.Stopped => VmRunResult.Stopped,
            KvmVmExitKind.GuestExit when exit.Code == 0 => new VmRunResult(VmRunOutcome.Stopped, exit.Message),
            KvmVmExitKind.GuestExit => new VmRunResult(VmRunOutcome.GuestFailed, $"the guest exited with code {exit.Code}"),
            KvmVmExitKind.GuestReset => new VmRunResult(VmRunOutcome.Stopped, "guest requested reset"),
            KvmVmExitKind.GuestShutdown => new VmRunResult(VmRunOutcome.Stopped, exit.Message),
            KvmVmExitKind.GuestException or KvmVmExitKind.Halted => new VmRunResult(VmRunOutcome.GuestFailed, exit.Message),
            _ => new VmRunResult(VmRunOutcome.VmmFailed, exit.Message),
        };
    }
}
