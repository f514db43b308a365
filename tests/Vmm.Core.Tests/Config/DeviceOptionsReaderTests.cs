using Xunit;

namespace Vmm.Core.Tests.Config;

public sealed class DeviceOptionsReaderTests : IDisposable
{
    private readonly ConfigFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private string[] OptionErrors(string options) =>
        _fixture.Errors($$"""{ "devices": [ { "id": "d", "plugin": "fake", "type": "fake-dev", "options": {{options}} } ] }""");

    [Theory]
    [InlineData("""{ "rate": "fast" }""", "$.devices[0].options.rate: expected an integer from -2147483648 to 2147483647, got string \"fast\"")]
    [InlineData("""{ "rate": 1.5 }""", "$.devices[0].options.rate: expected an integer from -2147483648 to 2147483647, got number 1.5")]
    [InlineData("""{ "mode": "turbo" }""", "$.devices[0].options.mode: expected one of \"fast\", \"slowAndSteady\", got string \"turbo\"")]
    [InlineData("""{ "mode": 1 }""", "$.devices[0].options.mode: expected one of \"fast\", \"slowAndSteady\", got number 1")]
    [InlineData("""{ "label": 5 }""", "$.devices[0].options.label: expected a string, got number 5")]
    [InlineData("""{ "modes": {} }""", "$.devices[0].options.modes: expected an array, got an object")]
    [InlineData("""{ "modes": [ { "width": 1 }, { "width": "wide" } ] }""", "$.devices[0].options.modes[1].width: expected an integer from -2147483648 to 2147483647, got string \"wide\"")]
    [InlineData("""{ "modes": [ 3 ] }""", "$.devices[0].options.modes[0]: expected an object, got number 3")]
    public void WrongValue_IsTranslatedToTheConfigPath(string options, string expected)
    {
        Assert.Equal([expected], OptionErrors(options));
    }

    [Fact]
    public void UnknownOptions_AreAllReported_AndKnownOnesStillChecked()
    {
        Assert.Equal(
            [
                "$.devices[0].options.speed: expected one of the options rate, mode, label, modes, got unknown member 'speed'",
                "$.devices[0].options.colour: expected one of the options rate, mode, label, modes, got unknown member 'colour'",
                "$.devices[0].options.rate: expected an integer from -2147483648 to 2147483647, got string \"x\"",
            ],
            OptionErrors("""{ "speed": 1, "colour": "red", "rate": "x" }"""));
    }

    [Fact]
    public void UnknownNestedOption_IsReportedWithItsPath()
    {
        Assert.Equal(
            ["$.devices[0].options.modes[0].depth: expected one of the options width, height, got unknown member 'depth'"],
            OptionErrors("""{ "modes": [ { "width": 1, "depth": 24 } ] }"""));
    }

    [Fact]
    public void OptionsNotAnObject_IsAnError()
    {
        Assert.Equal(["$.devices[0].options: expected an object of device options, got an array"], OptionErrors("[]"));
    }
}
