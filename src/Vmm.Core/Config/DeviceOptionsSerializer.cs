using System.Reflection;
using System.Reflection.Metadata;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Vmm.Core.Config;

/// <summary>
/// The System.Text.Json settings device options are read with: camelCase member names, unknown members rejected,
/// enums as camelCase strings, numbers only as JSON numbers. Plugin authors can rely on exactly these.
/// </summary>
/// <remarks>
/// System.Text.Json caches type metadata in the options instance, and an options instance that lives as long as the
/// host would keep every unloaded plugin's types alive. So a plugin's options types are read with settings of their
/// own assembly (<see cref="For"/>), which go with the plugin.
/// </remarks>
public static class DeviceOptionsSerializer
{
    private static readonly ConditionalWeakTable<Assembly, JsonSerializerOptions> s_perAssembly = new();

    /// <summary>The settings (read-only), for the host's own types.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>
    /// The same settings for reading <paramref name="optionsType"/>: one instance per assembly, held only as long as
    /// the assembly lives, so an unloaded plugin's type metadata is not cached here.
    /// </summary>
    public static JsonSerializerOptions For(Type optionsType)
    {
        ArgumentNullException.ThrowIfNull(optionsType);
        return s_perAssembly.GetValue(optionsType.Assembly, static _ => CreateOptions());
    }

    /// <summary>
    /// Drops System.Text.Json's process-wide reflection caches (the accessors it emits for options types, kept a
    /// second or more after last use) once a plugin is unloaded, as a hot reload does through the same handler.
    /// </summary>
    internal static void ForgetUnloadedTypes()
    {
        foreach (MetadataUpdateHandlerAttribute handler in typeof(JsonSerializer).Assembly.GetCustomAttributes<MetadataUpdateHandlerAttribute>())
        {
            handler.HandlerType.GetMethod("ClearCache", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(Type[])])
                ?.Invoke(null, [null]);
        }
    }

    private static JsonSerializerOptions CreateOptions()
    {
        JsonSerializerOptions options = new()
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,

            // A resolver of its own: instances with the same settings would otherwise share one metadata cache.
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.MakeReadOnly();
        return options;
    }
}
