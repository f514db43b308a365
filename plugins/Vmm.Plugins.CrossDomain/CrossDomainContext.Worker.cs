using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using Vmm.Plugins.CrossDomain.Host;
using Vmm.Plugins.CrossDomain.Protocol;
using static Vmm.Plugins.CrossDomain.Protocol.CrossDomainLayout;

namespace Vmm.Plugins.CrossDomain;

/// <summary>
/// The worker: one host event per channel-ring fence, written into the channel ring before the fence signals. The
/// sources stay in the poll set between fences, so the guest's next POLL needs no wake of this thread (the next host
/// event wakes it, and by then the fence is usually there); only a source that is ready while no fence waits takes
/// them out until a fence comes.
/// </summary>
internal sealed unsafe partial class CrossDomainContext
{
    private const int MaxRingMessage = 4096;

    /// <summary>What one polled descriptor is: the host socket, a host item, or a forwarded futex's watcher eventfd.</summary>
    private enum SourceKind
    {
        Channel,
        Item,
        Futex,
    }

    private void WorkerLoop()
    {
        byte[] message = new byte[MaxRingMessage];
        var sources = new List<(int Fd, SourceKind Kind, uint Id)>();
        pollfd[] fds = new pollfd[8];
        try
        {
            while (!_stopping)
            {
                int count = BuildPollSet(sources, ref fds);
                fixed (pollfd* pointer = fds)
                {
                    if (LibC.poll(pointer, (ulong_t)(ulong)count, -1) < 0 && LibC.errno != LibC.EINTR)
                    {
                        throw Fd.Error("poll");
                    }
                }

                if (_stopping)
                {
                    return;
                }

                if ((fds[0].revents & LibC.POLLIN) != 0)
                {
                    ulong drained;
                    LibC.read(Fd.Raw(_wake), &drained, sizeof(ulong));
                }

                ulong? fence = null;
                lock (_sync)
                {
                    if (_stopping || _channelRing is null)
                    {
                        continue;
                    }

                    if (_channelFences.Count == 0)
                    {
                        for (int i = 1; i < count; i++)
                        {
                            _readyWithoutFence |= fds[i].revents != 0;
                        }

                        continue;
                    }

                    int length = 0;
                    for (int i = 1; i < count && length == 0; i++)
                    {
                        if (fds[i].revents != 0)
                        {
                            (_, SourceKind kind, uint id) = sources[i - 1];
                            length = kind switch
                            {
                                SourceKind.Channel => ReceiveFromChannel(message),
                                SourceKind.Item => ReadItem(id, message),
                                _ => SignalFutex(id, message),
                            };
                        }
                    }

                    if (length > 0)
                    {
                        _channelRing.Write(0, message.AsSpan(0, length));
                        fence = _channelFences.Dequeue();
                        _readyWithoutFence = false;
                    }
                }

                if (fence is ulong signalled)
                {
                    _host.CompleteFence(ChannelRing, signalled);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            CrossDomainLog.HostFailed(_logger, exception, _id);
        }
    }

    /// <summary>
    /// The wake eventfd, then the socket, the polled items and the futex watchers: while a channel fence waits, or
    /// while none of them was found ready without one.
    /// </summary>
    private int BuildPollSet(List<(int Fd, SourceKind Kind, uint Id)> sources, ref pollfd[] fds)
    {
        sources.Clear();
        lock (_sync)
        {
            _sourcesPolled = _channelFences.Count > 0 || !_readyWithoutFence;
            if (_sourcesPolled)
            {
                if (_channel is not null && !_channelEnded)
                {
                    sources.Add((Fd.Raw(_channel.Handle), SourceKind.Channel, 0));
                }

                foreach (KeyValuePair<uint, HostItem> item in _items.All)
                {
                    if (item.Value.Polled && item.Value.File is SafeFileHandle file)
                    {
                        sources.Add((Fd.Raw(file), SourceKind.Item, item.Key));
                    }
                }

                foreach (ForwardedFutex futex in _futexes.Values)
                {
                    sources.Add((Fd.Raw(futex.Signalled), SourceKind.Futex, futex.Id));
                }
            }
        }

        if (fds.Length < sources.Count + 1)
        {
            fds = new pollfd[sources.Count + 1];
        }

        fds[0] = new pollfd { fd = Fd.Raw(_wake), events = (short)LibC.POLLIN };
        for (int i = 0; i < sources.Count; i++)
        {
            fds[i + 1] = new pollfd { fd = sources[i].Fd, events = (short)LibC.POLLIN };
        }

        return sources.Count + 1;
    }

    /// <summary>recvmsg into a RECEIVE; the peer's close becomes a RECEIVE with no data (the EOF signal).</summary>
    private int ReceiveFromChannel(byte[] message)
    {
        int capacity = (int)Math.Min((ulong)Math.Min(MaxMessageData, MaxRingMessage - SendReceive.Size), _channelRing!.Size - SendReceive.Size);
        var received = new List<SafeFileHandle>();
        int count;
        try
        {
            count = _channel!.Receive(message.AsSpan(SendReceive.Data, capacity), received);
        }
        catch (IOException exception)
        {
            CrossDomainLog.HostFailed(_logger, exception, _id);
            count = 0;
        }

        if (count == 0)
        {
            _channelEnded = true;
        }

        Span<(uint Id, uint Type, uint Size)> identifiers = stackalloc (uint, uint, uint)[MaxIdentifiers];
        int identifierCount = 0;
        foreach (SafeFileHandle fd in received)
        {
            if (identifierCount < MaxIdentifiers && Classify(fd) is (HostItem item, CrossDomainIdentifierType type) && _items.Add(item) is uint id)
            {
                identifiers[identifierCount++] = (id, (uint)type, (uint)Math.Min(item.Size, uint.MaxValue));
            }
        }

        byte[] data = message.AsSpan(SendReceive.Data, count).ToArray();
        return CrossDomainMessages.WriteReceive(message, identifiers[..identifierCount], data);
    }

    /// <summary>
    /// What a descriptor from the host socket becomes, as libkrun classifies it: eventfds (which lseek accepts too,
    /// so they are told by their /proc link first); then seekable files are blobs; then write-only ends of pipes.
    /// Anything else is closed.
    /// </summary>
    private (HostItem, CrossDomainIdentifierType)? Classify(SafeFileHandle fd)
    {
        string what = Fd.Describe(fd);
        if (what.Contains("[eventfd]", StringComparison.Ordinal))
        {
            return (new HostItem(HostItemKind.Eventfd, fd, 0), CrossDomainIdentifierType.Eventfd);
        }

        if (Fd.SeekableSize(fd) is long size)
        {
            return (new HostItem(HostItemKind.Blob, fd, (ulong)size), CrossDomainIdentifierType.VirtgpuBlob);
        }

        if (Fd.IsWriteOnly(fd))
        {
            return (new HostItem(HostItemKind.WritePipe, fd, 0), CrossDomainIdentifierType.WritePipe);
        }

        CrossDomainLog.FdDropped(_logger, _id, what);
        fd.Dispose();
        return null;
    }

    /// <summary>
    /// The watcher of futex <paramref name="id"/> saw its word change: one FUTEX_SIGNAL, however many wakes were
    /// counted since the last (the guest re-reads the word); 0 when the futex was destroyed meanwhile.
    /// </summary>
    private int SignalFutex(uint id, byte[] message)
    {
        if (!_futexes.TryGetValue(id, out ForwardedFutex? futex))
        {
            return 0;
        }

        Span<byte> count = stackalloc byte[sizeof(ulong)];
        return Fd.Read(futex.Signalled, count) == sizeof(ulong) ? CrossDomainMessages.WriteFutexSignal(message, id) : 0;
    }

    /// <summary>A read pipe's data (or hang-up) or an eventfd's counter as READ; 0 when the item is gone.</summary>
    private int ReadItem(uint id, byte[] message)
    {
        if (!_items.TryGet(id, out HostItem item) || item.File is null)
        {
            return 0;
        }

        int capacity = (int)Math.Min((ulong)(MaxRingMessage - ReadWrite.Data), _channelRing!.Size - ReadWrite.Data);
        Span<byte> buffer = message.AsSpan(ReadWrite.Data, item.Kind == HostItemKind.Eventfd ? sizeof(ulong) : capacity);
        int count;
        try
        {
            count = Fd.Read(item.File, buffer);
        }
        catch (IOException)
        {
            count = 0;
        }

        if (count < 0)
        {
            return 0;
        }

        bool hangUp = count == 0;
        byte[] data = buffer[..count].ToArray();
        if (hangUp)
        {
            _items.Remove(id);
        }

        return CrossDomainMessages.WriteRead(message, id, hangUp, data);
    }
}
