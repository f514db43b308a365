namespace Vmm.Core.Control;

/// <summary>What the built-in control commands need from a running VM; a platform's VM implements it.</summary>
public interface IControlledVm
{
    /// <summary>A snapshot of the VM's state.</summary>
    VmStatus GetStatus();

    /// <summary>Asks the VM to stop; returns at once. The VM stops its devices and vCPUs and its run ends.</summary>
    void RequestStop();
}
