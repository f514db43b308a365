using Vmm.Core.Control;
using Vmm.Fuzz.Harness;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// Control-socket request lines through <c>ControlRequest.TryParse</c>, each newline-separated line as the server
/// splits them. Expected: a request, or false with an error code and message. A finding: any exception, or false
/// without an error to answer with.
/// </summary>
public sealed class ControlTarget : FuzzTarget
{
    /// <inheritdoc/>
    public override string Name => "control";

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        foreach (Range range in input.Split((byte)'\n'))
        {
            if (!ControlRequest.TryParse(input[range], out ControlRequest request, out ControlReplyError? error))
            {
                if (error is null || string.IsNullOrEmpty(error.Message))
                {
                    throw new FuzzFindingException("a refused line came back without an error message");
                }
            }
            else if (string.IsNullOrEmpty(request.Command))
            {
                throw new FuzzFindingException("an accepted line has no command");
            }
        }
    }
}
