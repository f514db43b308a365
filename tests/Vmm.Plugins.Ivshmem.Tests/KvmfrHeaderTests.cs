using System.Buffers.Binary;
using Vmm.Plugins.Ivshmem.Kvmfr;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>The KVMFR header udata: what the producer writes parses back, and hostile udata never breaks the parser.</summary>
public sealed class KvmfrHeaderTests
{
    [Fact]
    public void HeaderAndRecordsRoundTrip()
    {
        var vm = new KvmfrVmInfo(Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"), "vmm-capture", 8, 4, 1, "Test CPU @ 3 GHz");
        var header = new KvmfrHeader(KvmfrProtocol.Version, "B7-vmm", KvmfrFeatures.SetCursorPos, vm, new KvmfrOsInfo(KvmfrOs.Linux, "Debian"));
        byte[] udata = header.ToUdata();
        Assert.Equal("KVMFR---"u8.ToArray(), udata[..8]);
        Assert.Equal(20u, BinaryPrimitives.ReadUInt32LittleEndian(udata.AsSpan(8)));
        Assert.Equal(1, udata[48]); // VMINFO record type
        Assert.Equal((uint)(51 + 17), BinaryPrimitives.ReadUInt32LittleEndian(udata.AsSpan(52)));
        Assert.Equal(48 + 8 + 68 + 8 + 8, udata.Length);
        Assert.True(KvmfrHeader.TryParse(udata, out KvmfrHeader? parsed));
        Assert.Equal(header.Version, parsed!.Version);
        Assert.Equal(header.HostVersion, parsed.HostVersion);
        Assert.Equal(header.Features, parsed.Features);
        Assert.Equal(vm, parsed.VmInfo);
        Assert.Equal(header.OsInfo, parsed.OsInfo);
    }

    [Fact]
    public void LongStringsAreCutToTheirFieldWithANul()
    {
        byte[] udata = new KvmfrHeader(20, new string('v', 100), 0, new KvmfrVmInfo(Guid.Empty, new string('c', 100), 1, 1, 1, "m"), null).ToUdata();
        Assert.Equal(0, udata[12 + 31]);
        Assert.True(KvmfrHeader.TryParse(udata, out KvmfrHeader? parsed));
        Assert.Equal(31, parsed!.HostVersion.Length);
        Assert.Equal(31, parsed.VmInfo!.Capture.Length);
    }

    [Fact]
    public void MissingMagicOrShortUdataIsRefused()
    {
        Assert.False(KvmfrHeader.TryParse([], out _));
        Assert.False(KvmfrHeader.TryParse("KVMFR---"u8, out _));
        byte[] udata = new KvmfrHeader(20, "x", 0, null, null).ToUdata();
        udata[7] = (byte)'+';
        Assert.False(KvmfrHeader.TryParse(udata, out _));
    }

    [Fact]
    public void HostileRecordsStopParsingWithoutReadingPastTheEnd()
    {
        byte[] valid = new KvmfrHeader(20, "x", 0, null, new KvmfrOsInfo(KvmfrOs.Windows, "W")).ToUdata();
        byte[] oversized = [.. valid, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2];
        Assert.True(KvmfrHeader.TryParse(oversized, out KvmfrHeader? parsed));
        Assert.Equal(KvmfrOs.Windows, parsed!.OsInfo!.Os);
        Assert.Null(parsed.VmInfo);

        byte[] shortVmInfo = [.. valid[..48], 1, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3, 2, 0, 0, 0, 1, 0, 0, 0, 4];
        Assert.True(KvmfrHeader.TryParse(shortVmInfo, out parsed));
        Assert.Null(parsed!.VmInfo); // too short to be a VMINFO: skipped
        Assert.Equal(KvmfrOs.Other, parsed.OsInfo!.Os);
        Assert.Equal(string.Empty, parsed.OsInfo.Name);
    }

    [Fact]
    public void RandomUdataNeverThrows()
    {
        var random = new Random(20);
        byte[] valid = new KvmfrHeader(20, "x", 0, new KvmfrVmInfo(Guid.NewGuid(), "c", 1, 1, 1, "model"), new KvmfrOsInfo(KvmfrOs.Linux, "L")).ToUdata();
        for (int i = 0; i < 20000; i++)
        {
            byte[] udata = i % 2 == 0 ? new byte[random.Next(0, 300)] : (byte[])valid.Clone();
            if (i % 2 == 0)
            {
                random.NextBytes(udata);
                if (udata.Length >= 8)
                {
                    "KVMFR---"u8.CopyTo(udata);
                }
            }
            else
            {
                for (int m = random.Next(1, 8); m > 0; m--)
                {
                    udata[random.Next(udata.Length)] = (byte)random.Next(256);
                }

                udata = udata[..random.Next(udata.Length + 1)];
            }

            KvmfrHeader.TryParse(udata, out _);
        }

        Assert.True(KvmfrHeader.TryParse(valid, out _));
    }
}
