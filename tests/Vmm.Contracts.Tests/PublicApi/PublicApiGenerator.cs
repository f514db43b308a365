using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Vmm.Contracts.Tests.PublicApi;

/// <summary>
/// Prints an assembly's public and protected surface as sorted, C#-like lines: one block per type (grouped by
/// namespace), members in a fixed order. Stable across builds, so it can be a golden file.
/// </summary>
internal static class PublicApiGenerator
{
    private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static readonly Dictionary<Type, string> s_keywords = new()
    {
        [typeof(void)] = "void", [typeof(bool)] = "bool", [typeof(byte)] = "byte", [typeof(sbyte)] = "sbyte",
        [typeof(short)] = "short", [typeof(ushort)] = "ushort", [typeof(int)] = "int", [typeof(uint)] = "uint",
        [typeof(long)] = "long", [typeof(ulong)] = "ulong", [typeof(float)] = "float", [typeof(double)] = "double",
        [typeof(decimal)] = "decimal", [typeof(char)] = "char", [typeof(string)] = "string", [typeof(object)] = "object",
        [typeof(nint)] = "nint", [typeof(nuint)] = "nuint",
    };

    public static string Generate(Assembly assembly)
    {
        var nullability = new NullabilityInfoContext();
        var output = new StringBuilder();
        IEnumerable<IGrouping<string, Type>> namespaces = assembly.GetTypes()
            .Where(IsVisible)
            .GroupBy(t => t.Namespace ?? string.Empty)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (IGrouping<string, Type> group in namespaces)
        {
            output.Append("namespace ").Append(group.Key).Append('\n');
            foreach (Type type in group.OrderBy(t => TypeName(t), StringComparer.Ordinal))
            {
                output.Append("  ").Append(Declaration(type)).Append('\n');
                foreach (string member in Members(type, nullability))
                {
                    output.Append("    ").Append(member).Append('\n');
                }
            }
        }

        return output.ToString();
    }

    private static bool IsVisible(Type type)
        => type.IsPublic || ((type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamORAssem) && IsVisible(type.DeclaringType!));

    private static bool IsVisible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static bool IsVisible(FieldInfo field) => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly;

    private static string Declaration(Type type)
    {
        var parts = new List<string> { type.IsPublic || type.IsNestedPublic ? "public" : "protected" };
        string kind;
        if (type.IsEnum)
        {
            kind = "enum";
        }
        else if (type.IsInterface)
        {
            kind = "interface";
        }
        else if (typeof(Delegate).IsAssignableFrom(type.BaseType))
        {
            MethodInfo invoke = type.GetMethod("Invoke")!;
            return $"public delegate {Format(invoke.ReturnType, null)} {TypeName(type)}({Parameters(invoke, new NullabilityInfoContext())})";
        }
        else if (type.IsValueType)
        {
            bool isReadOnly = type.IsDefined(typeof(IsReadOnlyAttribute), inherit: false);
            kind = (isReadOnly ? "readonly " : string.Empty) + (IsRecord(type) ? "record struct" : "struct");
        }
        else
        {
            if (type.IsAbstract && type.IsSealed)
            {
                parts.Add("static");
            }
            else if (type.IsAbstract)
            {
                parts.Add("abstract");
            }
            else if (type.IsSealed)
            {
                parts.Add("sealed");
            }

            kind = IsRecord(type) ? "record" : "class";
        }

        parts.Add(kind);
        parts.Add(TypeName(type));
        var bases = new List<string>();
        if (type.IsEnum)
        {
            bases.Add(Format(Enum.GetUnderlyingType(type), null));
        }
        else if (type.IsClass && type.BaseType is { } baseType && baseType != typeof(object))
        {
            bases.Add(Format(baseType, null));
        }

        if (!type.IsEnum)
        {
            IEnumerable<Type> inherited = type.BaseType?.GetInterfaces() ?? [];
            bases.AddRange(type.GetInterfaces().Except(inherited).Select(i => Format(i, null)).Order(StringComparer.Ordinal));
        }

        string declaration = string.Join(' ', parts) + (bases.Count > 0 ? " : " + string.Join(", ", bases) : string.Empty);
        return declaration + Constraints(type.IsGenericTypeDefinition ? type.GetGenericArguments() : []);
    }

    private static bool IsRecord(Type type)
        => type.GetMethod("<Clone>$", Declared) is not null
            || (type.IsValueType && type.GetMethod("PrintMembers", Declared) is not null);

    private static IEnumerable<string> Members(Type type, NullabilityInfoContext nullability)
    {
        if (type.IsEnum)
        {
            return type.GetFields(BindingFlags.Public | BindingFlags.Static)
                .OrderBy(f => Convert.ToInt64(f.GetRawConstantValue(), CultureInfo.InvariantCulture))
                .ThenBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => $"{f.Name} = {Convert.ToString(f.GetRawConstantValue(), CultureInfo.InvariantCulture)},");
        }

        if (typeof(Delegate).IsAssignableFrom(type.BaseType))
        {
            return [];
        }

        var members = new List<(int Order, string Name, string Line)>();
        foreach (FieldInfo field in type.GetFields(Declared).Where(IsVisible))
        {
            members.Add((0, field.Name, Field(field, nullability)));
        }

        foreach (ConstructorInfo constructor in type.GetConstructors(Declared).Where(c => IsVisible(c) && !c.IsStatic))
        {
            members.Add((1, string.Empty, $"{Access(constructor)} {TypeName(type).Split('<')[0]}({Parameters(constructor, nullability)})"));
        }

        foreach (PropertyInfo property in type.GetProperties(Declared))
        {
            if (Property(type, property, nullability) is { } line)
            {
                members.Add((2, property.Name, line));
            }
        }

        foreach (EventInfo e in type.GetEvents(Declared).Where(e => IsVisible(e.AddMethod!)))
        {
            members.Add((3, e.Name, $"{Modifiers(type, e.AddMethod!)}event {Format(e.EventHandlerType!, nullability.Create(e))} {e.Name};"));
        }

        foreach (MethodInfo method in type.GetMethods(Declared).Where(m => IsVisible(m) && (!m.IsSpecialName || m.Name.StartsWith("op_", StringComparison.Ordinal)) && !m.Name.StartsWith('<')))
        {
            members.Add((4, method.Name, Method(type, method, nullability)));
        }

        return members
            .OrderBy(m => m.Order)
            .ThenBy(m => m.Name, StringComparer.Ordinal)
            .ThenBy(m => m.Line, StringComparer.Ordinal)
            .Select(m => m.Line);
    }

    private static string Field(FieldInfo field, NullabilityInfoContext nullability)
    {
        string access = field.IsPublic ? "public" : "protected";
        string type = Format(field.FieldType, nullability.Create(field));
        if (field.IsLiteral)
        {
            return $"{access} const {type} {field.Name} = {Literal(field.GetRawConstantValue())};";
        }

        string modifiers = (field.IsStatic ? "static " : string.Empty) + (field.IsInitOnly ? "readonly " : string.Empty);
        return $"{access} {modifiers}{type} {field.Name};";
    }

    private static string? Property(Type type, PropertyInfo property, NullabilityInfoContext nullability)
    {
        MethodInfo? getter = property.GetMethod is { } g && IsVisible(g) ? g : null;
        MethodInfo? setter = property.SetMethod is { } s && IsVisible(s) ? s : null;
        MethodInfo? any = getter ?? setter;
        if (any is null)
        {
            return null;
        }

        var accessors = new List<string>();
        if (getter is not null)
        {
            accessors.Add("get;");
        }

        if (setter is not null)
        {
            bool init = setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));
            accessors.Add(init ? "init;" : "set;");
        }

        ParameterInfo[] index = property.GetIndexParameters();
        string name = index.Length == 0
            ? property.Name
            : "this[" + string.Join(", ", index.Select(p => Parameter(p, nullability))) + "]";
        return $"{Modifiers(type, any)}{Format(property.PropertyType, nullability.Create(property), TupleNames.Of(property))} {name} {{ {string.Join(' ', accessors)} }}";
    }

    private static string Method(Type type, MethodInfo method, NullabilityInfoContext nullability)
    {
        string generic = method.IsGenericMethodDefinition
            ? "<" + string.Join(", ", method.GetGenericArguments().Select(a => a.Name)) + ">"
            : string.Empty;
        string returnType = Format(method.ReturnType, nullability.Create(method.ReturnParameter), TupleNames.Of(method.ReturnParameter));
        string constraints = Constraints(method.IsGenericMethodDefinition ? method.GetGenericArguments() : []);
        return $"{Modifiers(type, method)}{returnType} {method.Name}{generic}({Parameters(method, nullability)}){constraints}";
    }

    private static string Modifiers(Type type, MethodInfo method)
    {
        if (type.IsInterface)
        {
            return method.IsStatic ? (method.IsAbstract ? "static abstract " : "static ") : method.IsAbstract ? string.Empty : "virtual ";
        }

        var parts = new List<string> { Access(method) };
        if (method.IsStatic)
        {
            parts.Add("static");
        }
        else if (method.IsAbstract)
        {
            parts.Add("abstract");
        }
        else if (method.IsVirtual && !method.IsFinal)
        {
            parts.Add(method.GetBaseDefinition() != method ? "override" : "virtual");
        }
        else if (method.IsVirtual && method.IsFinal && method.GetBaseDefinition() != method)
        {
            parts.Add("sealed override");
        }

        return string.Join(' ', parts) + " ";
    }

    private static string Access(MethodBase method) => method.IsPublic ? "public" : method.IsFamilyOrAssembly ? "protected internal" : "protected";

    private static string Parameters(MethodBase method, NullabilityInfoContext nullability)
    {
        bool extension = method.IsDefined(typeof(ExtensionAttribute), inherit: false);
        return string.Join(", ", method.GetParameters().Select((p, i) => (extension && i == 0 ? "this " : string.Empty) + Parameter(p, nullability)));
    }

    private static string Parameter(ParameterInfo parameter, NullabilityInfoContext nullability)
    {
        string prefix = string.Empty;
        if (parameter.ParameterType.IsByRef)
        {
            prefix = parameter.IsOut ? "out " : parameter.IsIn ? "in " : "ref ";
        }
        else if (parameter.IsDefined(typeof(ParamArrayAttribute), inherit: false))
        {
            prefix = "params ";
        }

        string text = $"{prefix}{Format(parameter.ParameterType, nullability.Create(parameter), TupleNames.Of(parameter))} {parameter.Name}";
        return parameter.HasDefaultValue ? $"{text} = {Literal(parameter.RawDefaultValue)}" : text;
    }

    private static string Constraints(Type[] genericArguments)
    {
        var clauses = new StringBuilder();
        foreach (Type argument in genericArguments)
        {
            var constraints = new List<string>();
            GenericParameterAttributes attributes = argument.GenericParameterAttributes;
            bool isStruct = attributes.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint);
            if (attributes.HasFlag(GenericParameterAttributes.ReferenceTypeConstraint))
            {
                constraints.Add("class");
            }

            if (isStruct)
            {
                constraints.Add("struct");
            }

            constraints.AddRange(argument.GetGenericParameterConstraints().Where(c => c != typeof(ValueType)).Select(c => Format(c, null)));
            if (attributes.HasFlag(GenericParameterAttributes.DefaultConstructorConstraint) && !isStruct)
            {
                constraints.Add("new()");
            }

            if (constraints.Count > 0)
            {
                clauses.Append(" where ").Append(argument.Name).Append(" : ").Append(string.Join(", ", constraints));
            }
        }

        return clauses.ToString();
    }

    private static string TypeName(Type type)
    {
        string name = type.IsNested ? TypeName(type.DeclaringType!) + "." + type.Name : type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick < 0)
        {
            return name;
        }

        return name[..tick] + "<" + string.Join(", ", type.GetGenericArguments().Select(a => a.Name)) + ">";
    }

    private static string Format(Type type, NullabilityInfo? info, TupleNames? names = null)
    {
        if (type.IsByRef)
        {
            return Format(type.GetElementType()!, info, names);
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Format(underlying, info?.GenericTypeArguments.FirstOrDefault(), names) + "?";
        }

        string nullable = info is not null && !type.IsValueType
            && (info.ReadState == NullabilityState.Nullable || info.WriteState == NullabilityState.Nullable) ? "?" : string.Empty;
        if (type.IsArray)
        {
            return Format(type.GetElementType()!, info?.ElementType, names) + "[" + new string(',', type.GetArrayRank() - 1) + "]" + nullable;
        }

        if (type.IsGenericParameter)
        {
            return type.Name + nullable;
        }

        if (s_keywords.TryGetValue(type, out string? keyword))
        {
            return keyword + nullable;
        }

        if (type.IsGenericType)
        {
            Type[] arguments = type.GetGenericArguments();
            bool isTuple = type.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true;

            // Tuple element names are stored depth-first, pre-order: this tuple's names before its elements' own.
            string?[] elementNames = isTuple ? arguments.Select(_ => names?.Next()).ToArray() : [];
            string[] formatted = arguments
                .Select((a, i) => Format(a, info is not null && i < info.GenericTypeArguments.Length ? info.GenericTypeArguments[i] : null, names))
                .ToArray();
            if (isTuple)
            {
                return "(" + string.Join(", ", formatted.Select((f, i) => elementNames[i] is { } n ? f + " " + n : f)) + ")" + nullable;
            }

            string name = type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)];
            return name + "<" + string.Join(", ", formatted) + ">" + nullable;
        }

        return (type.IsNested ? Format(type.DeclaringType!, null) + "." : string.Empty) + type.Name + nullable;
    }

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string s => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
        char c => "'" + c + "'",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>The tuple element names a member carries (TupleElementNamesAttribute), handed out in order.</summary>
    private sealed class TupleNames
    {
        private readonly IList<string?> _names;
        private int _next;

        private TupleNames(IList<string?> names) => _names = names;

        public static TupleNames? Of(ICustomAttributeProvider member)
            => member.GetCustomAttributes(typeof(TupleElementNamesAttribute), inherit: false) is [TupleElementNamesAttribute attribute, ..]
                ? new TupleNames(attribute.TransformNames)
                : null;

        public string? Next() => _next < _names.Count ? _names[_next++] : null;
    }
}
