namespace Vmm.Plugins.CrossDomain.Protocol;

/// <summary>One decoded guest-to-host cross-domain command. Handlers see these, never raw offsets.</summary>
internal abstract record CrossDomainCommand;

/// <summary>CROSS_DOMAIN_CMD_INIT: the two ring resources and the channel to connect.</summary>
/// <param name="QueryRingId">The resource id of the query ring.</param>
/// <param name="ChannelRingId">The resource id of the channel ring (the query ring in the legacy layout).</param>
/// <param name="ChannelType">The channel to connect (0: none).</param>
/// <param name="ProtocolVersion">libkrun's protocol_version (0 for the shorter layouts).</param>
internal sealed record InitCommand(uint QueryRingId, uint ChannelRingId, uint ChannelType, uint ProtocolVersion) : CrossDomainCommand;

/// <summary>CROSS_DOMAIN_CMD_GET_IMAGE_REQUIREMENTS: answered in the query ring.</summary>
internal sealed record GetImageRequirementsCommand(uint Width, uint Height, uint DrmFormat, uint Flags) : CrossDomainCommand;

/// <summary>CROSS_DOMAIN_CMD_POLL: the channel ring's fence that follows waits for one host message.</summary>
internal sealed record PollCommand : CrossDomainCommand;

/// <summary>One identifier of a SEND: its value and type (the size is host-to-guest only).</summary>
internal readonly record struct CrossDomainIdentifier(uint Id, uint Type);

/// <summary>CROSS_DOMAIN_CMD_SEND: bytes for the host socket and identifiers that become host fds.</summary>
/// <param name="Data">
/// Where the bytes are in the SUBMIT_3D stream the command was decoded from: not copied (a SEND carries up to 64 KiB),
/// the context sends them from that stream while it runs the submit.
/// </param>
internal sealed record SendCommand(CrossDomainIdentifier[] Identifiers, Range Data) : CrossDomainCommand;

/// <summary>CROSS_DOMAIN_CMD_WRITE: bytes for a write pipe or eventfd the host passed; hang_up closes it.</summary>
/// <param name="Data">Where the bytes are in the decoded stream, as for <see cref="SendCommand.Data"/>.</param>
internal sealed record WriteCommand(uint Identifier, bool HangUp, Range Data) : CrossDomainCommand;

/// <summary>libkrun's CROSS_DOMAIN_CMD_FUTEX_NEW: a futex word in a virtio-fs (DAX) file export.</summary>
internal sealed record FutexNewCommand(ulong FsId, ulong Handle, uint Id) : CrossDomainCommand;

/// <summary>libkrun's CROSS_DOMAIN_CMD_FUTEX_SIGNAL: wake the host waiters of futex <paramref name="Id"/>.</summary>
internal sealed record FutexSignalCommand(uint Id) : CrossDomainCommand;

/// <summary>libkrun's CROSS_DOMAIN_CMD_FUTEX_DESTROY.</summary>
internal sealed record FutexDestroyCommand(uint Id) : CrossDomainCommand;

/// <summary>libkrun's CROSS_DOMAIN_CMD_READ_EVENTFD_NEW: start polling a received eventfd.</summary>
internal sealed record ReadEventfdNewCommand(uint Id) : CrossDomainCommand;
