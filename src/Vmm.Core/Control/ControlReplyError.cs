using System.Text.Json;

namespace Vmm.Core.Control;

/// <summary>An error reply to send: the request id (undefined when unknown), the code and the message.</summary>
internal sealed record ControlReplyError(JsonElement Id, string Code, string Message);
