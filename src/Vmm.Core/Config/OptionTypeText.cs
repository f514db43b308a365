using System.Collections;
using System.Text.Json;

namespace Vmm.Core.Config;

/// <summary>Says what JSON an options property of a given .NET type expects, for error messages.</summary>
internal static class OptionTypeText
{
    /// <summary>For example <c>an integer from 0 to 4294967295</c>, <c>one of "os", "seeded"</c>, <c>a string</c>.</summary>
    public static string Expected(Type? type)
    {
        if (type is null)
        {
            return "a valid value";
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(type).Select(n => "\"" + JsonNamingPolicy.CamelCase.ConvertName(n) + "\""));
        }

        return Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => "true or false",
            TypeCode.String or TypeCode.Char => "a string",
            TypeCode.Byte => Range(byte.MinValue, byte.MaxValue),
            TypeCode.SByte => Range(sbyte.MinValue, sbyte.MaxValue),
            TypeCode.Int16 => Range(short.MinValue, short.MaxValue),
            TypeCode.UInt16 => Range(ushort.MinValue, ushort.MaxValue),
            TypeCode.Int32 => Range(int.MinValue, int.MaxValue),
            TypeCode.UInt32 => Range(uint.MinValue, uint.MaxValue),
            TypeCode.Int64 => "an integer",
            TypeCode.UInt64 => "an integer of 0 or more",
            TypeCode.Single or TypeCode.Double or TypeCode.Decimal => "a number",
            _ when type == typeof(TimeSpan) => "a time span such as \"00:00:01.5\"",
            _ when typeof(IEnumerable).IsAssignableFrom(type) => "an array",
            _ => "an object",
        };
    }

    private static string Range(long min, long max) => $"an integer from {min} to {max}";
}
