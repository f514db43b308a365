using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Testing.Native;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>
/// The LGMP v6 / KVMFR v20 layouts (Looking Glass B7): C declarations written from the brief's field tables, checked
/// by gcc against the brief's sizes and against every C# offset constant.
/// </summary>
public sealed class LayoutTests
{
    // Our own C rendering of the B7 structs (field order and types from the brief, §2.3-2.4, §3.2-3.7).
    internal const string Declarations = """
        struct LGMPClientMessage { uint32_t size; uint8_t data[64]; };
        struct LGMPHeaderMessage { uint32_t udata; uint32_t size; uint32_t offset; uint32_t pendingSubs; } __attribute__((aligned(4)));
        struct LGMPHeaderQueue {
          uint32_t queueID; uint32_t numMessages; uint32_t newSubCount; uint32_t maxTime; uint32_t position; uint32_t messagesOffset;
          uint64_t timeout[32]; uint32_t clientID[32]; uint32_t lock; uint64_t subs; uint32_t start; uint64_t msgTimeout;
          uint32_t count; uint32_t cMsgLock; uint32_t cMsgAvail; uint32_t cMsgWPos; uint32_t cMsgWSerial; uint32_t cMsgRSerial;
          struct LGMPClientMessage cMsgs[10];
        } __attribute__((aligned(4)));
        struct LGMPHeader {
          uint32_t magic; uint32_t version; uint32_t sessionID; uint64_t timestamp; uint32_t numQueues;
          struct LGMPHeaderQueue queues[5]; uint32_t udataSize; uint8_t udata[];
        } __attribute__((aligned(4)));
        struct KVMFR { char magic[8]; uint32_t version; char hostver[32]; uint32_t features; };
        struct KVMFRRecord { uint8_t type; uint32_t size; uint8_t data[]; };
        struct KVMFRRecord_VMInfo { uint8_t uuid[16]; char capture[32]; uint8_t cpus; uint8_t cores; uint8_t sockets; char model[]; };
        struct KVMFRRecord_OSInfo { uint8_t os; char name[]; };
        struct FrameDamageRect { uint32_t x; uint32_t y; uint32_t width; uint32_t height; };
        struct KVMFRFrame {
          uint32_t formatVer; uint32_t frameSerial; uint32_t type; uint32_t screenWidth; uint32_t screenHeight;
          uint32_t dataWidth; uint32_t dataHeight; uint32_t frameWidth; uint32_t frameHeight; uint32_t rotation;
          uint32_t stride; uint32_t pitch; uint32_t offset; uint32_t damageRectsCount; struct FrameDamageRect damageRects[64];
          uint32_t flags;
        };
        struct FrameBuffer { uint32_t wp; uint8_t data[]; };
        struct KVMFRCursor { int16_t x; int16_t y; uint32_t type; int8_t hx; int8_t hy; uint32_t width; uint32_t height; uint32_t pitch; };
        struct KVMFRSetCursorPos { uint32_t type; int32_t x; int32_t y; };
        /* The brief's numbers (B7, computed with gcc from the real headers). */
        _Static_assert(sizeof(struct LGMPHeader) == 5760, "LGMPHeader");
        _Static_assert(offsetof(struct LGMPHeader, udata) == 5756, "udata");
        _Static_assert(sizeof(struct LGMPHeaderQueue) == 1144, "LGMPHeaderQueue");
        _Static_assert(offsetof(struct LGMPHeaderQueue, subs) == 416, "subs");
        _Static_assert(offsetof(struct LGMPHeaderQueue, cMsgs) == 464, "cMsgs");
        _Static_assert(sizeof(struct KVMFRFrame) == 1084, "KVMFRFrame");
        _Static_assert(offsetof(struct KVMFRFrame, flags) == 1080, "flags");
        _Static_assert(sizeof(struct KVMFRCursor) == 24, "KVMFRCursor");
        _Static_assert(sizeof(struct KVMFR) == 48, "KVMFR");
        _Static_assert(sizeof(struct KVMFRRecord) == 8, "KVMFRRecord");
        _Static_assert(offsetof(struct KVMFRRecord_VMInfo, model) == 51, "VMInfo.model");
        """;

    [Fact]
    public void CSharpOffsetsEqualTheCDeclarations()
    {
        CHeaderCheck check = Build();
        string? compiler = CHeaderCheck.FindCompiler();
        if (compiler is null)
        {
            Assert.Skip("gcc is not installed: the C layout check cannot run (apt-get install gcc).");
        }

        Assert.True(check.Count >= 80, $"only {check.Count} checks");
        IReadOnlyList<string> errors = check.Run(compiler);
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    [Fact]
    public void TheCheckCatchesAWrongOffset()
    {
        string? compiler = CHeaderCheck.FindCompiler();
        if (compiler is null)
        {
            Assert.Skip("gcc is not installed: the C layout check cannot run (apt-get install gcc).");
        }

        CHeaderCheck check = NewCheck().Equal("offsetof(struct LGMPHeader, timestamp)", 12, "timestamp without its padding");
        IReadOnlyList<string> errors = check.Run(compiler);
        Assert.Contains(errors, e => e.Contains("MISMATCH timestamp", StringComparison.Ordinal));
    }

    [Fact]
    public void TheBriefsGoldenNumbersHoldWithoutACompiler()
    {
        Assert.Equal(5760, LgmpHeaderLayout.Size);
        Assert.Equal(16, LgmpHeaderLayout.Timestamp);
        Assert.Equal(32, LgmpHeaderLayout.Queues);
        Assert.Equal(5756, LgmpHeaderLayout.Udata);
        Assert.Equal(1144, LgmpQueueLayout.Size);
        Assert.Equal(416, LgmpQueueLayout.Subs);
        Assert.Equal(1084, KvmfrFrameLayout.Size);
        Assert.Equal(24, KvmfrCursorLayout.Size);
        Assert.Equal(0x504d474cu, LgmpProtocol.Magic);
        Assert.Equal(6u, LgmpProtocol.Version);
        Assert.Equal(20u, KvmfrProtocol.Version);
        Assert.Equal(17, (int)LgmpStatus.ErrCorrupted);
        Assert.Equal(18, Enum.GetValues<LgmpStatus>().Length);
    }

    /// <summary>A check over <see cref="Declarations"/> (LGMP and KVMFR have no installed header).</summary>
    internal static CHeaderCheck NewCheck() => new CHeaderCheck().Include("stdint.h").Declare(Declarations);

    private static CHeaderCheck Build()
    {
        var check = NewCheck()
            .Equal("sizeof(struct LGMPHeader)", LgmpHeaderLayout.Size, "LGMPHeader")
            .Equal("offsetof(struct LGMPHeader, magic)", LgmpHeaderLayout.Magic, "magic")
            .Equal("offsetof(struct LGMPHeader, version)", LgmpHeaderLayout.Version, "version")
            .Equal("offsetof(struct LGMPHeader, sessionID)", LgmpHeaderLayout.SessionId, "sessionID")
            .Equal("offsetof(struct LGMPHeader, timestamp)", LgmpHeaderLayout.Timestamp, "timestamp")
            .Equal("offsetof(struct LGMPHeader, numQueues)", LgmpHeaderLayout.NumQueues, "numQueues")
            .Equal("offsetof(struct LGMPHeader, queues)", LgmpHeaderLayout.Queues, "queues")
            .Equal("offsetof(struct LGMPHeader, udataSize)", LgmpHeaderLayout.UdataSize, "udataSize")
            .Equal("offsetof(struct LGMPHeader, udata)", LgmpHeaderLayout.Udata, "udata")
            .Equal("sizeof(struct LGMPHeaderQueue)", LgmpQueueLayout.Size, "LGMPHeaderQueue")
            .Equal("sizeof(struct LGMPHeaderMessage)", LgmpMessageLayout.Size, "LGMPHeaderMessage")
            .Equal("offsetof(struct LGMPHeaderMessage, udata)", LgmpMessageLayout.Udata, "msg.udata")
            .Equal("offsetof(struct LGMPHeaderMessage, size)", LgmpMessageLayout.PayloadSize, "msg.size")
            .Equal("offsetof(struct LGMPHeaderMessage, offset)", LgmpMessageLayout.PayloadOffset, "msg.offset")
            .Equal("offsetof(struct LGMPHeaderMessage, pendingSubs)", LgmpMessageLayout.PendingSubs, "msg.pendingSubs")
            .Equal("sizeof(struct LGMPClientMessage)", LgmpClientMessageLayout.Size, "LGMPClientMessage")
            .Equal("offsetof(struct LGMPClientMessage, size)", LgmpClientMessageLayout.DataSize, "cmsg.size")
            .Equal("offsetof(struct LGMPClientMessage, data)", LgmpClientMessageLayout.Data, "cmsg.data")
            .Equal("sizeof(((struct LGMPClientMessage*)0)->data)", LgmpProtocol.ClientMessageMaxSize, "LGMP_MSGS_SIZE")
            .Equal("sizeof(((struct LGMPHeaderQueue*)0)->cMsgs) / sizeof(struct LGMPClientMessage)", LgmpProtocol.ClientMessageSlots, "LGMP_MSGS_MAX")
            .Equal("sizeof(((struct LGMPHeader*)0)->queues) / sizeof(struct LGMPHeaderQueue)", LgmpProtocol.MaxQueues, "LGMP_MAX_QUEUES")
            .Equal("sizeof(((struct LGMPHeaderQueue*)0)->timeout) / 8", LgmpProtocol.MaxSubscribers, "subscribers");
        for (int i = 0; i < LgmpProtocol.MaxQueues; i++)
        {
            check.Equal($"offsetof(struct LGMPHeader, queues[{i}])", LgmpHeaderLayout.Queue(i), $"queues[{i}]");
        }

        (string C, int CSharp)[] queue =
        [
            ("queueID", LgmpQueueLayout.QueueId), ("numMessages", LgmpQueueLayout.NumMessages), ("newSubCount", LgmpQueueLayout.NewSubCount),
            ("maxTime", LgmpQueueLayout.MaxTime), ("position", LgmpQueueLayout.Position), ("messagesOffset", LgmpQueueLayout.MessagesOffset),
            ("timeout", LgmpQueueLayout.Timeout), ("timeout[31]", LgmpQueueLayout.TimeoutOf(31)), ("clientID", LgmpQueueLayout.ClientId),
            ("clientID[31]", LgmpQueueLayout.ClientIdOf(31)), ("lock", LgmpQueueLayout.Lock), ("subs", LgmpQueueLayout.Subs),
            ("start", LgmpQueueLayout.Start), ("msgTimeout", LgmpQueueLayout.MsgTimeout), ("count", LgmpQueueLayout.Count),
            ("cMsgLock", LgmpQueueLayout.ClientMessageLock), ("cMsgAvail", LgmpQueueLayout.ClientMessageAvailable),
            ("cMsgWPos", LgmpQueueLayout.ClientMessageWritePosition), ("cMsgWSerial", LgmpQueueLayout.ClientMessageWriteSerial),
            ("cMsgRSerial", LgmpQueueLayout.ClientMessageReadSerial), ("cMsgs", LgmpQueueLayout.ClientMessages),
            ("cMsgs[9]", LgmpQueueLayout.ClientMessageOf(9)),
        ];
        foreach ((string c, int cs) in queue)
        {
            check.Equal($"offsetof(struct LGMPHeaderQueue, {c})", cs, $"queue.{c}");
        }

        check.Equal("sizeof(struct KVMFR)", KvmfrHeaderLayout.Size, "KVMFR")
            .Equal("offsetof(struct KVMFR, magic)", KvmfrHeaderLayout.Magic, "KVMFR.magic")
            .Equal("offsetof(struct KVMFR, version)", KvmfrHeaderLayout.Version, "KVMFR.version")
            .Equal("offsetof(struct KVMFR, hostver)", KvmfrHeaderLayout.HostVersion, "KVMFR.hostver")
            .Equal("sizeof(((struct KVMFR*)0)->hostver)", KvmfrHeaderLayout.HostVersionLength, "KVMFR.hostver size")
            .Equal("offsetof(struct KVMFR, features)", KvmfrHeaderLayout.Features, "KVMFR.features")
            .Equal("sizeof(struct KVMFRRecord)", KvmfrRecordLayout.Size, "KVMFRRecord")
            .Equal("offsetof(struct KVMFRRecord, type)", KvmfrRecordLayout.Type, "record.type")
            .Equal("offsetof(struct KVMFRRecord, size)", KvmfrRecordLayout.DataSize, "record.size")
            .Equal("offsetof(struct KVMFRRecord, data)", KvmfrRecordLayout.Data, "record.data")
            .Equal("offsetof(struct KVMFRRecord_VMInfo, uuid)", KvmfrVmInfoLayout.Uuid, "vminfo.uuid")
            .Equal("offsetof(struct KVMFRRecord_VMInfo, capture)", KvmfrVmInfoLayout.Capture, "vminfo.capture")
            .Equal("sizeof(((struct KVMFRRecord_VMInfo*)0)->capture)", KvmfrVmInfoLayout.CaptureLength, "vminfo.capture size")
            .Equal("offsetof(struct KVMFRRecord_VMInfo, cpus)", KvmfrVmInfoLayout.Cpus, "vminfo.cpus")
            .Equal("offsetof(struct KVMFRRecord_VMInfo, cores)", KvmfrVmInfoLayout.Cores, "vminfo.cores")
            .Equal("offsetof(struct KVMFRRecord_VMInfo, sockets)", KvmfrVmInfoLayout.Sockets, "vminfo.sockets")
            .Equal("offsetof(struct KVMFRRecord_VMInfo, model)", KvmfrVmInfoLayout.Model, "vminfo.model")
            .Equal("offsetof(struct KVMFRRecord_OSInfo, os)", KvmfrOsInfoLayout.Os, "osinfo.os")
            .Equal("offsetof(struct KVMFRRecord_OSInfo, name)", KvmfrOsInfoLayout.Name, "osinfo.name")
            .Equal("sizeof(struct KVMFRFrame)", KvmfrFrameLayout.Size, "KVMFRFrame")
            .Equal("sizeof(struct FrameDamageRect)", FrameDamageRectLayout.Size, "FrameDamageRect")
            .Equal("offsetof(struct FrameDamageRect, x)", FrameDamageRectLayout.X, "rect.x")
            .Equal("offsetof(struct FrameDamageRect, y)", FrameDamageRectLayout.Y, "rect.y")
            .Equal("offsetof(struct FrameDamageRect, width)", FrameDamageRectLayout.Width, "rect.width")
            .Equal("offsetof(struct FrameDamageRect, height)", FrameDamageRectLayout.Height, "rect.height")
            .Equal("sizeof(((struct KVMFRFrame*)0)->damageRects) / sizeof(struct FrameDamageRect)", KvmfrProtocol.MaxDamageRects, "KVMFR_MAX_DAMAGE_RECTS")
            .Equal("offsetof(struct FrameBuffer, wp)", FrameBufferLayout.WritePointer, "FrameBuffer.wp")
            .Equal("offsetof(struct FrameBuffer, data)", FrameBufferLayout.Data, "FrameBuffer.data")
            .Equal("sizeof(struct KVMFRCursor)", KvmfrCursorLayout.Size, "KVMFRCursor")
            .Equal("sizeof(struct KVMFRSetCursorPos)", KvmfrSetCursorPosLayout.Size, "KVMFRSetCursorPos")
            .Equal("offsetof(struct KVMFRSetCursorPos, type)", KvmfrSetCursorPosLayout.Type, "setpos.type")
            .Equal("offsetof(struct KVMFRSetCursorPos, x)", KvmfrSetCursorPosLayout.X, "setpos.x")
            .Equal("offsetof(struct KVMFRSetCursorPos, y)", KvmfrSetCursorPosLayout.Y, "setpos.y");
        (string C, int CSharp)[] frame =
        [
            ("formatVer", KvmfrFrameLayout.FormatVersion), ("frameSerial", KvmfrFrameLayout.FrameSerial), ("type", KvmfrFrameLayout.Type),
            ("screenWidth", KvmfrFrameLayout.ScreenWidth), ("screenHeight", KvmfrFrameLayout.ScreenHeight), ("dataWidth", KvmfrFrameLayout.DataWidth),
            ("dataHeight", KvmfrFrameLayout.DataHeight), ("frameWidth", KvmfrFrameLayout.FrameWidth), ("frameHeight", KvmfrFrameLayout.FrameHeight),
            ("rotation", KvmfrFrameLayout.Rotation), ("stride", KvmfrFrameLayout.Stride), ("pitch", KvmfrFrameLayout.Pitch),
            ("offset", KvmfrFrameLayout.Offset), ("damageRectsCount", KvmfrFrameLayout.DamageRectsCount),
            ("damageRects", KvmfrFrameLayout.DamageRects), ("damageRects[63]", KvmfrFrameLayout.DamageRectOf(63)), ("flags", KvmfrFrameLayout.Flags),
        ];
        foreach ((string c, int cs) in frame)
        {
            check.Equal($"offsetof(struct KVMFRFrame, {c})", cs, $"frame.{c}");
        }

        (string C, int CSharp)[] cursor =
        [
            ("x", KvmfrCursorLayout.X), ("y", KvmfrCursorLayout.Y), ("type", KvmfrCursorLayout.Type), ("hx", KvmfrCursorLayout.HotX),
            ("hy", KvmfrCursorLayout.HotY), ("width", KvmfrCursorLayout.Width), ("height", KvmfrCursorLayout.Height), ("pitch", KvmfrCursorLayout.Pitch),
        ];
        foreach ((string c, int cs) in cursor)
        {
            check.Equal($"offsetof(struct KVMFRCursor, {c})", cs, $"cursor.{c}");
        }

        return check;
    }
}
