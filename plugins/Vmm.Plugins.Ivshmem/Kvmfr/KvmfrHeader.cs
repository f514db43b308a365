using System.Buffers.Binary;
using System.Text;

namespace Vmm.Plugins.Ivshmem.Kvmfr;

/// <summary>The <c>KVMFRRecord_VMInfo</c> record: what the client shows about the VM.</summary>
/// <param name="Uuid">The VM's UUID (16 bytes).</param>
/// <param name="Capture">The capture backend's name (at most 31 bytes of UTF-8 are kept).</param>
/// <param name="Cpus">Logical CPUs.</param>
/// <param name="Cores">Cores.</param>
/// <param name="Sockets">Sockets.</param>
/// <param name="Model">The CPU model.</param>
internal sealed record KvmfrVmInfo(Guid Uuid, string Capture, byte Cpus, byte Cores, byte Sockets, string Model);

/// <summary>The <c>KVMFRRecord_OSInfo</c> record.</summary>
/// <param name="Os">The guest OS family.</param>
/// <param name="Name">A display name.</param>
internal sealed record KvmfrOsInfo(KvmfrOs Os, string Name);

/// <summary>The KVMFR header udata (<c>struct KVMFR</c> plus records), written by a producer and parsed by a consumer.</summary>
/// <param name="Version">The KVMFR version (20 for B7).</param>
/// <param name="HostVersion">The host's version string (at most 31 bytes of UTF-8).</param>
/// <param name="Features">The features the host implements.</param>
/// <param name="VmInfo">The VMINFO record, if any.</param>
/// <param name="OsInfo">The OSINFO record, if any.</param>
internal sealed record KvmfrHeader(uint Version, string HostVersion, KvmfrFeatures Features, KvmfrVmInfo? VmInfo, KvmfrOsInfo? OsInfo)
{
    /// <summary>The largest udata <see cref="TryParse"/> looks at; longer udata is cut (the client does not need more).</summary>
    public const int MaxUdataSize = 64 * 1024;

    /// <summary>Encodes the header and its records as the LGMP udata.</summary>
    public byte[] ToUdata()
    {
        var bytes = new List<byte>(128);
        Span<byte> fixedPart = stackalloc byte[KvmfrHeaderLayout.Size];
        fixedPart.Clear();
        KvmfrProtocol.Magic.CopyTo(fixedPart[KvmfrHeaderLayout.Magic..]);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[KvmfrHeaderLayout.Version..], Version);
        WriteCString(fixedPart.Slice(KvmfrHeaderLayout.HostVersion, KvmfrHeaderLayout.HostVersionLength), HostVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[KvmfrHeaderLayout.Features..], (uint)Features);
        bytes.AddRange(fixedPart);
        if (VmInfo is { } vm)
        {
            byte[] model = Encoding.UTF8.GetBytes(vm.Model);
            byte[] data = new byte[KvmfrVmInfoLayout.Model + model.Length + 1];
            vm.Uuid.TryWriteBytes(data.AsSpan(KvmfrVmInfoLayout.Uuid, KvmfrVmInfoLayout.UuidLength), bigEndian: true, out _);
            WriteCString(data.AsSpan(KvmfrVmInfoLayout.Capture, KvmfrVmInfoLayout.CaptureLength), vm.Capture);
            data[KvmfrVmInfoLayout.Cpus] = vm.Cpus;
            data[KvmfrVmInfoLayout.Cores] = vm.Cores;
            data[KvmfrVmInfoLayout.Sockets] = vm.Sockets;
            model.CopyTo(data, KvmfrVmInfoLayout.Model);
            AddRecord(bytes, KvmfrRecordType.VmInfo, data);
        }

        if (OsInfo is { } os)
        {
            byte[] name = Encoding.UTF8.GetBytes(os.Name);
            byte[] data = new byte[KvmfrOsInfoLayout.Name + name.Length + 1];
            data[KvmfrOsInfoLayout.Os] = (byte)os.Os;
            name.CopyTo(data, KvmfrOsInfoLayout.Name);
            AddRecord(bytes, KvmfrRecordType.OsInfo, data);
        }

        return [.. bytes];
    }

    /// <summary>
    /// Parses udata that may be hostile, as the B7 client does: the magic and the 48-byte header are required;
    /// records are read while 8 bytes remain, unknown ones skipped, and parsing stops at a record whose size exceeds
    /// what remains. Malformed strings are cut at the field's end; nothing is read outside <paramref name="udata"/>.
    /// </summary>
    /// <returns>False when the magic or header is missing; the version is returned as found (check it).</returns>
    public static bool TryParse(ReadOnlySpan<byte> udata, out KvmfrHeader? header)
    {
        header = null;
        if (udata.Length < KvmfrHeaderLayout.Size || !udata[..8].SequenceEqual(KvmfrProtocol.Magic))
        {
            return false;
        }

        if (udata.Length > MaxUdataSize)
        {
            udata = udata[..MaxUdataSize];
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(udata[KvmfrHeaderLayout.Version..]);
        string hostVersion = ReadCString(udata.Slice(KvmfrHeaderLayout.HostVersion, KvmfrHeaderLayout.HostVersionLength));
        var features = (KvmfrFeatures)BinaryPrimitives.ReadUInt32LittleEndian(udata[KvmfrHeaderLayout.Features..]);
        KvmfrVmInfo? vmInfo = null;
        KvmfrOsInfo? osInfo = null;
        ReadOnlySpan<byte> records = udata[KvmfrHeaderLayout.Size..];
        while (records.Length >= KvmfrRecordLayout.Size)
        {
            byte type = records[KvmfrRecordLayout.Type];
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(records[KvmfrRecordLayout.DataSize..]);
            records = records[KvmfrRecordLayout.Size..];
            if (size > (uint)records.Length)
            {
                break;
            }

            ReadOnlySpan<byte> data = records[..(int)size];
            records = records[(int)size..];
            if (type == (byte)KvmfrRecordType.VmInfo && data.Length >= KvmfrVmInfoLayout.Model)
            {
                vmInfo = new KvmfrVmInfo(
                    new Guid(data.Slice(KvmfrVmInfoLayout.Uuid, KvmfrVmInfoLayout.UuidLength), bigEndian: true),
                    ReadCString(data.Slice(KvmfrVmInfoLayout.Capture, KvmfrVmInfoLayout.CaptureLength)),
                    data[KvmfrVmInfoLayout.Cpus], data[KvmfrVmInfoLayout.Cores], data[KvmfrVmInfoLayout.Sockets],
                    ReadCString(data[KvmfrVmInfoLayout.Model..]));
            }
            else if (type == (byte)KvmfrRecordType.OsInfo && data.Length >= KvmfrOsInfoLayout.Name)
            {
                osInfo = new KvmfrOsInfo((KvmfrOs)data[KvmfrOsInfoLayout.Os], ReadCString(data[KvmfrOsInfoLayout.Name..]));
            }
        }

        header = new KvmfrHeader(version, hostVersion, features, vmInfo, osInfo);
        return true;
    }

    private static void AddRecord(List<byte> bytes, KvmfrRecordType type, byte[] data)
    {
        Span<byte> record = stackalloc byte[KvmfrRecordLayout.Size];
        record.Clear();
        record[KvmfrRecordLayout.Type] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(record[KvmfrRecordLayout.DataSize..], (uint)data.Length);
        bytes.AddRange(record);
        bytes.AddRange(data);
    }

    private static void WriteCString(Span<byte> field, string value)
    {
        field.Clear();
        byte[] text = Encoding.UTF8.GetBytes(value);
        text.AsSpan(0, Math.Min(text.Length, field.Length - 1)).CopyTo(field);
    }

    private static string ReadCString(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }
}
