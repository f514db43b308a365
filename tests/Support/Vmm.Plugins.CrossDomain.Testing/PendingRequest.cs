using Vmm.Contracts.Virtio;
using Vmm.Testing.Virtio;

namespace Vmm.Plugins.CrossDomain.Testing;

/// <summary>A control command posted to the device; its buffers go back to the pool once answered.</summary>
public sealed class PendingRequest
{
    private readonly CrossDomainGuestGpu _gpu;
    private readonly ManualResetEventSlim _done = new();
    private byte[]? _answer;

    internal PendingRequest(CrossDomainGuestGpu gpu, GuestBuffer request, GuestBuffer response, int responseSize)
    {
        _gpu = gpu;
        Request = request;
        Response = response;
        ResponseSize = responseSize;
    }

    /// <summary>Whether the device answered (or was reset, which also ends the wait).</summary>
    public bool IsCompleted => _done.IsSet;

    /// <summary>The answer's bytes; null when the device was reset or disposed before answering.</summary>
    public byte[]? Answer => _answer;

    internal GuestBuffer Request { get; }

    internal GuestBuffer Response { get; }

    internal int ResponseSize { get; }

    internal long Generation { get; set; }

    /// <summary>Waits for the answer; returns its bytes.</summary>
    /// <exception cref="CrossDomainGuestException">Nothing came back in time, or the device was reset first.</exception>
    public byte[] Wait(TimeSpan timeout)
    {
        if (!TryWait(timeout))
        {
            throw new CrossDomainGuestException($"the device returned nothing within {timeout}");
        }

        return _answer ?? throw new CrossDomainGuestException("the device was reset before it answered");
    }

    /// <summary>Waits for the answer; false on a time-out.</summary>
    public bool TryWait(TimeSpan timeout) => _gpu.WaitFor(this, timeout);

    internal bool WaitCompleted(TimeSpan timeout) => _done.Wait(timeout);

    internal void Complete(byte[]? answer)
    {
        _answer = answer;
        _done.Set();
        _gpu.Return(Request);
        _gpu.Return(Response);
    }
}
