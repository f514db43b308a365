using System.Text;
using Vmm.Core.Bus;
using Vmm.Core.Memory;
using Vmm.Kvm.Devices;
using Vmm.Kvm.Payloads;

namespace Vmm.Kvm.Tests;

/// <summary>A one-vCPU VM with 4 MiB of RAM, the long-mode layout, COM1, and the exit and exception ports.</summary>
internal sealed class PayloadMachine : IDisposable
{
    private readonly StringBuilder _console = new();

    public PayloadMachine(KvmSystem system)
    {
        Memory = GuestMemory.Create(LongModeGuest.MinimumMemorySize);
        Vm = system.CreateVm();
        Vm.AddMemory(Memory);
        Uart = new Serial16550(value =>
        {
            lock (_console)
            {
                _console.Append((char)value);
            }
        });
        Vm.PortBus.Register(Serial16550.Com1Port, Serial16550.PortCount, Uart);
        Vm.PortBus.Register(GuestExitPort.DefaultPort, 1, new GuestExitPort(Vm));
        Vm.PortBus.Register(GuestExceptionPort.DefaultPort, 1, new GuestExceptionPort(Vm));
        Vcpu = Vm.CreateVcpu();
        LongModeGuest.WriteSystemTables(Memory);
    }

    public GuestMemory Memory { get; }

    public KvmVm Vm { get; }

    public KvmVcpu Vcpu { get; }

    public Serial16550 Uart { get; }

    public AddressBus MmioBus => Vm.MmioBus;

    public string Console
    {
        get
        {
            lock (_console)
            {
                return _console.ToString();
            }
        }
    }

    /// <summary>Loads <paramref name="payload"/> at 1 MiB, enters it in ring 3, runs until the VM stops (or 30 s).</summary>
    public KvmVmExit RunUserPayload(byte[] payload)
    {
        StartUserPayload(payload);
        return Vm.WaitForExit(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException("The payload did not finish within 30 s; console: " + Console);
    }

    /// <summary>Loads <paramref name="payload"/> at 1 MiB and starts it in ring 3 without waiting.</summary>
    public void StartUserPayload(byte[] payload, bool interruptsEnabled = false)
    {
        PrepareUserPayload(payload, interruptsEnabled);
        Vm.Start();
    }

    /// <summary>Loads <paramref name="payload"/> at 1 MiB and sets the vCPU to enter it in ring 3; starts nothing.</summary>
    public void PrepareUserPayload(byte[] payload, bool interruptsEnabled = false)
    {
        Memory.Write(LongModeGuest.PayloadAddress, payload);
        LongModeGuest.EnterUserMode(Vcpu, Memory, LongModeGuest.PayloadAddress, interruptsEnabled: interruptsEnabled);
    }

    public void Dispose()
    {
        Vm.Dispose();
        Memory.Dispose();
    }
}
