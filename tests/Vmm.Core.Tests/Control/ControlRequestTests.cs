using System.Text;
using Vmm.Core.Control;
using Xunit;

namespace Vmm.Core.Tests.Control;

/// <summary>Request lines the fuzzer found (tools/fuzz/repro/control): refused with a message, never an exception.</summary>
public sealed class ControlRequestTests
{
    [Fact]
    public void Bytes_that_are_not_utf8_inside_a_string_are_a_malformed_request_naming_the_byte()
    {
        byte[] line = [.. "{\"v\":1,\"command\":\"st"u8, 0xBC, .. "\"}"u8];

        Assert.False(ControlRequest.TryParse(line, out _, out ControlReplyError? error));

        Assert.Equal(ControlErrorCodes.MalformedRequest, error!.Code);
        Assert.Equal("expected a JSON object in UTF-8, got a byte that is not UTF-8 at byte 21", error.Message);
    }

    [Fact]
    public void An_escaped_lone_surrogate_as_the_command_is_a_malformed_request()
    {
        byte[] line = Encoding.UTF8.GetBytes("{\"v\":1,\"id\":3,\"command\":\"\\ud800\"}");

        Assert.False(ControlRequest.TryParse(line, out _, out ControlReplyError? error));

        Assert.Equal(ControlErrorCodes.MalformedRequest, error!.Code);
        Assert.Equal("expected a \"command\" string", error.Message);
        Assert.Equal(3, error.Id.GetInt32());
    }
}
