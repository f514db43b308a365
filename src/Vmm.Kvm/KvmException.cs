using Vmm.Contracts;

namespace Vmm.Kvm;

/// <summary>The KVM platform cannot do what was asked: /dev/kvm is missing, too old, or lacks a capability.</summary>
public sealed class KvmException : VmmException
{
    internal KvmException(string message)
        : base(message)
    {
    }

    internal KvmException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
