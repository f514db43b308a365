namespace Vmm.Core.Virtio.Execution;

/// <summary>What <see cref="VirtioDeviceWorker.Failed"/> reports for a device that kept more than its <see cref="DeviceLimits"/> allow.</summary>
public sealed class DeviceLimitExceededException : Exception
{
    /// <summary>Creates the exception with why the device failed.</summary>
    public DeviceLimitExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception without a message.</summary>
    public DeviceLimitExceededException()
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public DeviceLimitExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
