using System.Globalization;
using System.Text.Json;

namespace Hrm.Runtime.Formats;

/// <summary>
/// What every JSON reader here asks of System.Text.Json beyond its defaults. A key given twice is refused while
/// parsing (by default the last wins in a <see cref="JsonDocument"/>, and a JsonObject throws a bare
/// ArgumentException when it first builds its dictionary). A string or key that is not text, a lone UTF-16
/// surrogate escape such as <c>"\ud800"</c> or bytes that are not UTF-8, parses but throws a bare
/// InvalidOperationException when read: <see cref="FirstBadText"/> finds it first, so that the reader can name it.
/// </summary>
internal static class JsonText
{
    /// <summary>Options that refuse duplicate keys; <paramref name="comments"/> skips <c>//</c> and <c>/* */</c>.</summary>
    public static JsonDocumentOptions Options(bool comments = false) => new()
    {
        AllowDuplicateProperties = false,
        CommentHandling = comments ? JsonCommentHandling.Skip : JsonCommentHandling.Disallow,
    };

    /// <summary>Parses <paramref name="json"/> with <see cref="Options"/>. A key that is not text, met while looking for
    /// duplicates, is a <see cref="JsonException"/> like any other malformed JSON.</summary>
    public static JsonDocument Parse(string json, bool comments = false)
    {
        try
        {
            return JsonDocument.Parse(json, Options(comments));
        }
        catch (InvalidOperationException e)
        {
            throw new JsonException("a key is " + BadTextMessage, e);
        }
    }

    /// <summary><see cref="Parse(string, bool)"/> for UTF-8 bytes.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, bool comments = false)
    {
        try
        {
            return JsonDocument.Parse(utf8, Options(comments));
        }
        catch (InvalidOperationException e)
        {
            throw new JsonException("a key is " + BadTextMessage, e);
        }
    }

    /// <summary>Parses the text of a file that holds one JSON object (<paramref name="path"/> names it in errors); the
    /// caller disposes the document.</summary>
    /// <exception cref="HrmFormatException">Invalid JSON (field "json"), a string that is not text (its place), or a
    /// value other than an object (field "json").</exception>
    public static JsonDocument ParseObject(string json, string path)
    {
        JsonDocument doc;
        try
        {
            doc = Parse(json);
        }
        catch (JsonException e)
        {
            throw new HrmFormatException(path, "json", $"is not valid JSON ({e.Message})", e);
        }
        JsonValueKind kind = doc.RootElement.ValueKind;
        string? bad = FirstBadText(doc.RootElement);
        if (bad is null && kind == JsonValueKind.Object) return doc;
        doc.Dispose();
        throw bad is not null ? new HrmFormatException(path, bad, BadTextMessage)
            : new HrmFormatException(path, "json", $"expected an object, found {kind}");
    }

    /// <summary>What readers say of a value <see cref="FirstBadText"/> found.</summary>
    public const string BadTextMessage = "not text: a lone UTF-16 surrogate escape (such as \\ud800) or bytes that are not UTF-8";

    /// <summary>The place (<c>arch.name</c>, <c>train[2].input</c>; the key itself with " (a key)") of the first string or
    /// key under <paramref name="e"/> that cannot be read as text, or null when every one can.</summary>
    public static string? FirstBadText(JsonElement e, string path = "")
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(() => e.GetString()) ? null : path.Length > 0 ? path : "(the document)";
            case JsonValueKind.Array:
                int i = 0;
                foreach (JsonElement item in e.EnumerateArray())
                {
                    if (FirstBadText(item, $"{path}[{i.ToString(CultureInfo.InvariantCulture)}]") is { } bad) return bad;
                    i++;
                }
                return null;
            case JsonValueKind.Object:
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    string? name = null;
                    if (!Readable(() => name = p.Name)) return (path.Length > 0 ? path + "." : "") + "(a key)";
                    if (FirstBadText(p.Value, path.Length > 0 ? $"{path}.{name}" : name!) is { } bad) return bad;
                }
                return null;
            default:
                return null;
        }
    }

    private static bool Readable(Action read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
