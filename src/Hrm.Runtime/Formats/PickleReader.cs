using System.Buffers.Binary;
using System.Text;

namespace Hrm.Runtime.Formats;

/// <summary>A Python global named by a pickle (<c>module.name</c>); never imported or called here.</summary>
internal sealed record PyGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A Python tuple.</summary>
internal sealed record PyTuple(object?[] Items);

/// <summary>A Python dict (insertion order kept, as OrderedDict and dict do).</summary>
internal sealed class PyDict
{
    public List<KeyValuePair<object, object?>> Items { get; } = [];
}

/// <summary>
/// Reads a pickle (protocols 2 to 5, the binary opcodes PyTorch's <c>torch.save</c> and Python's pickler emit for
/// dicts, tuples, lists, strings, numbers and objects rebuilt by a call) into <see cref="PyDict"/>, <see cref="PyTuple"/>,
/// <c>List&lt;object?&gt;</c>, string, long, double, bool, byte[] and null. It runs no code: a call (REDUCE) goes to
/// <c>call</c>, which builds what it knows and throws for anything else, and a persistent id (BINPERSID) to
/// <c>persistentLoad</c>. Every malformed input is an <see cref="HrmFormatException"/> naming the file, the field and
/// the byte offset.
/// </summary>
internal sealed class PickleReader
{
    private readonly byte[] _data;
    private readonly string _path, _field;
    private readonly Func<PyGlobal, PyTuple, object?> _call;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    private PickleReader(byte[] data, string path, string field, Func<PyGlobal, PyTuple, object?> call,
        Func<object?, object?> persistentLoad)
    {
        _data = data;
        _path = path;
        _field = field;
        _call = call;
        _persistentLoad = persistentLoad;
    }

    /// <summary>The object a pickle describes (<paramref name="field"/> names it in errors, e.g. "data.pkl").</summary>
    public static object? Load(byte[] data, string path, string field, Func<PyGlobal, PyTuple, object?> call,
        Func<object?, object?> persistentLoad) =>
        new PickleReader(data, path, field, call, persistentLoad).Run();

    private object? Run()
    {
        while (true)
        {
            int at = _pos;
            byte op = U8();
            switch (op)
            {
                case 0x80: // PROTO
                    if (U8() is < 2 or > 5) throw Bad(at, "pickle protocol other than 2 to 5");
                    break;
                case 0x95: Skip(8); break; // FRAME: a length hint only
                case (byte)'.': // STOP
                    if (_stack.Count != 1 || _marks.Count != 0) throw Bad(at, "STOP with an unbalanced stack");
                    return _stack[0];
                case (byte)'(': Made(); _marks.Push(_stack.Count); break; // MARK
                case (byte)'0': Pop(at); break; // POP
                case (byte)'1': PopMark(at); break; // POP_MARK
                case (byte)'2': Push(Peek(at)); break; // DUP
                case (byte)'Q': Push(_persistentLoad(Pop(at))); break; // BINPERSID
                case (byte)'q': Made(); _memo[U8()] = Peek(at); break; // BINPUT
                case (byte)'r': Made(); _memo[U32()] = Peek(at); break; // LONG_BINPUT
                case 0x94: Made(); _memo[_memo.Count] = Peek(at); break; // MEMOIZE
                case (byte)'h': Push(Memo(at, U8())); break; // BINGET
                case (byte)'j': Push(Memo(at, U32())); break; // LONG_BINGET
                default:
                    if (!PushValue(at, op) && !Build(at, op))
                    {
                        throw Bad(at,
                            $"unsupported pickle opcode 0x{op:x2} (only the binary opcodes of data are read)");
                    }
                    break;
            }
        }
    }

    /// <summary>Runs <paramref name="op"/> if it pushes a constant, number, string or bytes; false otherwise.</summary>
    private bool PushValue(int at, byte op)
    {
        switch (op)
        {
            case (byte)'N': Push(null); break;
            case 0x88: Push(true); break; // NEWTRUE
            case 0x89: Push(false); break; // NEWFALSE
            case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
            case (byte)'K': Push((long)U8()); break; // BININT1
            case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
            case 0x8a: Push(Long(at, U8())); break; // LONG1
            case 0x8b: Push(Long(at, Length(at, 4))); break; // LONG4
            case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
            case (byte)'X': Push(Utf8(at, Length(at, 4))); break; // BINUNICODE
            case 0x8c: Push(Utf8(at, U8())); break; // SHORT_BINUNICODE
            case 0x8d: Push(Utf8(at, Length(at, 8))); break; // BINUNICODE8
            case (byte)'T': Push(Latin1(Length(at, 4))); break; // BINSTRING
            case (byte)'U': Push(Latin1(U8())); break; // SHORT_BINSTRING
            case (byte)'B': Push(Take(Length(at, 4)).ToArray()); break; // BINBYTES
            case (byte)'C': Push(Take(U8()).ToArray()); break; // SHORT_BINBYTES
            case 0x8e: Push(Take(Length(at, 8)).ToArray()); break; // BINBYTES8
            default: return false;
        }
        return true;
    }

    /// <summary>Runs <paramref name="op"/> if it builds a tuple, list, dict, global or call result; false otherwise.
    /// </summary>
    private bool Build(int at, byte op)
    {
        switch (op)
        {
            case (byte)')': Push(new PyTuple([])); break; // EMPTY_TUPLE
            case (byte)'t': Push(new PyTuple(PopMark(at))); break; // TUPLE
            case 0x85: Push(new PyTuple([Pop(at)])); break; // TUPLE1
            case 0x86: { object? b = Pop(at), a = Pop(at); Push(new PyTuple([a, b])); break; } // TUPLE2
            case 0x87: { object? c = Pop(at), b = Pop(at), a = Pop(at); Push(new PyTuple([a, b, c])); break; }
            case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
            case (byte)'l': Push(new List<object?>(PopMark(at))); break; // LIST
            case (byte)'a': { object? v = Pop(at); ListAt(at, _stack.Count - 1).Add(v); break; } // APPEND
            case (byte)'e': { object?[] vs = PopMark(at); ListAt(at, _stack.Count - 1).AddRange(vs); break; }
            case (byte)'}': Push(new PyDict()); break; // EMPTY_DICT
            case (byte)'d': { var d = new PyDict(); AddPairs(at, d, PopMark(at)); Push(d); break; } // DICT
            case (byte)'s': // SETITEM
            {
                object? v = Pop(at), k = Pop(at);
                AddPairs(at, DictAt(at, _stack.Count - 1), [k, v]);
                break;
            }
            case (byte)'u': { object?[] kv = PopMark(at); AddPairs(at, DictAt(at, _stack.Count - 1), kv); break; }
            case (byte)'c': Push(new PyGlobal(Line(at), Line(at))); break; // GLOBAL
            case 0x93: // STACK_GLOBAL
            {
                object? name = Pop(at), module = Pop(at);
                if (module is not string m || name is not string n) throw Bad(at, "STACK_GLOBAL without two strings");
                Push(new PyGlobal(m, n));
                break;
            }
            case (byte)'R': // REDUCE
            {
                object? args = Pop(at), fn = Pop(at);
                if (fn is not PyGlobal g) throw Bad(at, "REDUCE of something that is not a global");
                if (args is not PyTuple t) throw Bad(at, $"REDUCE of {g} without an argument tuple");
                Push(_call(g, t));
                break;
            }
            case (byte)'b': // BUILD: state for the object below; dicts' attributes (OrderedDict._metadata) only
            {
                object? state = Pop(at);
                if (Peek(at) is not PyDict || state is not (PyDict or null))
                    throw Bad(at, "BUILD of something other than a dict's attributes");
                break;
            }
            default: return false;
        }
        return true;
    }

    private HrmFormatException Bad(int at, string problem) => new(_path, _field, $"byte {at}: {problem}");

    private byte U8() => Take(1)[0];

    private ReadOnlySpan<byte> Take(long n)
    {
        if (n < 0 || n > _data.Length - _pos) throw Bad(_pos, $"truncated: {n} bytes needed, {_data.Length - _pos} left");
        var span = new ReadOnlySpan<byte>(_data, _pos, (int)n);
        _pos += (int)n;
        return span;
    }

    private void Skip(long n) => Take(n);

    /// <summary>A 4- or 8-byte length, checked against the bytes left.</summary>
    private long Length(int at, int bytes)
    {
        ulong n = bytes == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4))
            : BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        if (n > (ulong)(_data.Length - _pos)) throw Bad(at, $"length {n} past the end ({_data.Length - _pos} bytes left)");
        return (long)n;
    }

    private long U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    private long Long(int at, long n)
    {
        ReadOnlySpan<byte> b = Take(n);
        if (n > 8) throw Bad(at, $"an integer of {n} bytes (at most 8 are read)");
        long v = 0;
        for (int i = (int)n - 1; i >= 0; i--) v = (v << 8) | b[i];
        if (n is > 0 and < 8 && (b[(int)n - 1] & 0x80) != 0) v -= 1L << (int)(8 * n); // two's complement
        return v;
    }

    private string Utf8(int at, long n)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(Take(n));
        }
        catch (DecoderFallbackException)
        {
            throw Bad(at, "a string that is not UTF-8");
        }
    }

    private string Latin1(long n) => Encoding.Latin1.GetString(Take(n));

    private string Line(int at)
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0 || end - _pos > 1024) throw Bad(at, "GLOBAL without a newline-terminated name");
        string s = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    /// <summary>The most objects, marks and memo entries one pickle may make (a state dict of the HRM makes a few
    /// thousand); past it the file is refused rather than allowed to fill memory.</summary>
    private const int MaxObjects = 1 << 22;

    private int _made;

    /// <summary>Counts an object, mark or memo entry against <see cref="MaxObjects"/>.</summary>
    private void Made()
    {
        if (++_made > MaxObjects) throw Bad(_pos, $"more than {MaxObjects} objects: not a state dict this reader takes");
    }

    private void Push(object? o)
    {
        Made();
        _stack.Add(o);
    }

    private object? Pop(int at)
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks.Peek() == _stack.Count)) throw Bad(at, "stack underflow");
        object? o = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return o;
    }

    private object? Peek(int at) =>
        _stack.Count > 0 ? _stack[^1] : throw Bad(at, "stack underflow");

    private object?[] PopMark(int at)
    {
        if (_marks.Count == 0) throw Bad(at, "no MARK to pop to");
        int m = _marks.Pop();
        object?[] items = [.. _stack.Skip(m)];
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    private object? Memo(int at, long key) =>
        _memo.TryGetValue(key, out object? o) ? o : throw Bad(at, $"memo entry {key} was never stored");

    private List<object?> ListAt(int at, int i) =>
        i >= 0 && _stack[i] is List<object?> l ? l : throw Bad(at, "APPEND to something that is not a list");

    private PyDict DictAt(int at, int i) =>
        i >= 0 && _stack[i] is PyDict d ? d : throw Bad(at, "SETITEM to something that is not a dict");

    private void AddPairs(int at, PyDict d, object?[] kv)
    {
        if (kv.Length % 2 != 0) throw Bad(at, "a dict with a key and no value");
        for (int i = 0; i < kv.Length; i += 2)
        {
            object key = kv[i] ?? throw Bad(at, "a dict key that is None");
            d.Items.Add(new(key, kv[i + 1]));
        }
    }
}
