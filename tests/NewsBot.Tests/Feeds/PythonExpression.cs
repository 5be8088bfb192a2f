using System.Globalization;
using System.Text;

namespace NewsBot.Tests.Feeds;

/// <summary>
/// The small subset of Python that feedparser's <c>Expect:</c> lines use: literals, names, attribute and item
/// access, <c>len()</c>/<c>.get()</c>, comparisons, <c>in</c>, <c>not</c>/<c>and</c>/<c>or</c>.
/// Values are string, long, double, bool, null, List (tuple/list) and Dictionary (feedparser's dict).
/// </summary>
public sealed class PythonExpression
{
    private readonly List<(char Kind, string Text)> _tokens;
    private readonly Func<string, object?> _names;
    private readonly Func<Dictionary<string, object?>, string, bool> _isModelledKey;
    private int _position;

    private PythonExpression(string source, Func<string, object?> names, Func<Dictionary<string, object?>, string, bool> isModelledKey)
    {
        _tokens = Tokenize(source);
        _names = names;
        _isModelledKey = isModelledKey;
    }

    /// <summary>Raised when the expression touches something NewsBot does not model; the message is that thing.</summary>
    public sealed class NotModelledException(string what) : Exception(what);

    /// <summary>
    /// Evaluates <paramref name="source"/>. <paramref name="names"/> resolves top-level names (throwing
    /// <see cref="NotModelledException"/> for unknown ones); dictionary keys outside <paramref name="isModelledKey"/>
    /// raise <see cref="NotModelledException"/> too, modelled but absent keys evaluate as a failed lookup (false).
    /// </summary>
    public static bool Evaluate(string source, Func<string, object?> names, Func<Dictionary<string, object?>, string, bool> isModelledKey)
    {
        var expression = new PythonExpression(source, names, isModelledKey);
        try
        {
            var value = expression.ParseOr();
            if (expression._position != expression._tokens.Count)
            {
                throw new NotModelledException("syntax: " + expression._tokens[expression._position].Text);
            }

            return Truthy(value);
        }
        catch (KeyNotFoundException)
        {
            return false;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private object? ParseOr()
    {
        var left = Operand(ParseAnd);
        while (Accept("or"))
        {
            var right = Operand(ParseAnd);
            left = Truthy(left) ? left : right;
        }

        return left;
    }

    private object? ParseAnd()
    {
        var left = Operand(ParseNot);
        while (Accept("and"))
        {
            // Every operand is evaluated (unlike Python) so that a name NewsBot does not model is always noticed.
            var right = Operand(ParseNot);
            left = Truthy(left) ? right : left;
        }

        return left;
    }

    // A lookup of a modelled but absent key (KeyError/IndexError in Python) fails the operand, not the evaluation.
    private object? Operand(Func<object?> parse)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is KeyNotFoundException or ArgumentOutOfRangeException)
        {
            SkipOperand();
            return false;
        }
    }

    // Moves past the rest of a failed operand: to the next "and"/"or" or the closing bracket around it.
    private void SkipOperand()
    {
        var depth = 0;
        while (_position < _tokens.Count)
        {
            var (kind, text) = _tokens[_position];
            if (kind == 'n' && depth == 0 && text is "and" or "or")
            {
                return;
            }

            if (kind == 'o' && text is "(" or "[" or "{")
            {
                depth++;
            }
            else if (kind == 'o' && text is ")" or "]" or "}")
            {
                if (depth == 0)
                {
                    return;
                }

                depth--;
            }

            _position++;
        }
    }

    private object? ParseNot()
    {
        if (Accept("not"))
        {
            return !Truthy(ParseNot());
        }

        return ParseComparison();
    }

    // Python chains comparisons: a == b == c means a == b and b == c.
    private object? ParseComparison()
    {
        var left = ParsePostfix();
        object? result = null;
        while (true)
        {
            bool outcome;
            object? right;
            if (Accept("=="))
            {
                right = ParsePostfix();
                outcome = Same(left, right);
            }
            else if (Accept("!="))
            {
                right = ParsePostfix();
                outcome = !Same(left, right);
            }
            else if (Accept("in"))
            {
                right = ParsePostfix();
                outcome = Contains(right, left);
            }
            else if (Peek("not") && PeekAt(1, "in"))
            {
                _position += 2;
                right = ParsePostfix();
                outcome = !Contains(right, left);
            }
            else if (Accept("is"))
            {
                var negate = Accept("not");
                right = ParsePostfix();
                outcome = Same(left, right) != negate;
            }
            else if (new[] { "<=", ">=", "<", ">" }.FirstOrDefault(Peek) is { } op)
            {
                _position++;
                right = ParsePostfix();
                var order = Convert.ToDouble(left, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(right, CultureInfo.InvariantCulture));
                outcome = op switch { "<" => order < 0, ">" => order > 0, "<=" => order <= 0, _ => order >= 0 };
            }
            else
            {
                return result ?? left;
            }

            result = (result is null || (bool)result) && outcome;
            left = right;
        }
    }

    private object? ParsePostfix()
    {
        var value = ParsePrimary();
        while (true)
        {
            if (Accept("."))
            {
                var name = Next().Text;
                if (name == "get" && Accept("("))
                {
                    var key = (string)ParseOr()!;
                    var fallback = Accept(",") ? ParseOr() : null;
                    Expect(")");
                    value = Get(value, key, fallback);
                }
                else if (name is "has_key" && Accept("("))
                {
                    var key = (string)ParseOr()!;
                    Expect(")");
                    value = Get(value, key, MissingKey) != MissingKey;
                }
                else if (name is "lower" or "upper" or "strip" && Accept("("))
                {
                    Expect(")");
                    var text = (string)value!;
                    value = name == "lower" ? text.ToLowerInvariant() : name == "upper" ? text.ToUpperInvariant() : text.Trim();
                }
                else
                {
                    value = Index(value, name);
                }
            }
            else if (Accept("["))
            {
                var index = ParseOr();
                Expect("]");
                value = Index(value, index);
            }
            else
            {
                return value;
            }
        }
    }

    private object? ParsePrimary()
    {
        var (kind, text) = Next();
        switch (kind)
        {
            case 's':
                var joined = text;
                while (_position < _tokens.Count && _tokens[_position].Kind == 's')
                {
                    joined += Next().Text; // implicit concatenation of adjacent literals
                }

                return joined;
            case 'd':
                return text.Contains('.') ? double.Parse(text, CultureInfo.InvariantCulture) : (object)long.Parse(text, CultureInfo.InvariantCulture);
            case 'n':
                switch (text)
                {
                    case "None":
                        return null;
                    case "True":
                        return true;
                    case "False":
                        return false;
                    case "len":
                        Expect("(");
                        var argument = ParseOr();
                        Expect(")");
                        return argument switch
                        {
                            string s => (long)s.Length,
                            List<object?> l => (long)l.Count,
                            Dictionary<string, object?> d => (long)d.Count,
                            _ => throw new NotModelledException("len of " + argument),
                        };
                    default:
                        if (Peek("("))
                        {
                            throw new NotModelledException(text + "()");
                        }

                        return _names(text);
                }

            case 'o' when text == "-":
                var number = ParsePrimary();
                return number is long l2 ? (object)(-l2) : -(double)number!;
            case 'o' when text is "(" or "[":
                var close = text == "(" ? ")" : "]";
                var items = new List<object?>();
                var isTuple = text == "[";
                while (!Accept(close))
                {
                    items.Add(ParseOr());
                    if (Accept(","))
                    {
                        isTuple = true;
                    }
                }

                return isTuple ? items : items.Count == 1 ? items[0] : items;
            case 'o' when text == "{":
                var dictionary = new Dictionary<string, object?>();
                while (!Accept("}"))
                {
                    var key = (string)ParseOr()!;
                    Expect(":");
                    dictionary[key] = ParseOr();
                    Accept(",");
                }

                return dictionary;
            default:
                throw new NotModelledException("syntax: " + text);
        }
    }

    private static readonly object MissingKey = new();

    private object? Get(object? container, string key, object? fallback)
    {
        if (container is not Dictionary<string, object?> dictionary)
        {
            throw new NotModelledException("get on " + container);
        }

        if (!_isModelledKey(dictionary, key))
        {
            throw new NotModelledException(key);
        }

        return dictionary.TryGetValue(key, out var value) ? value : fallback;
    }

    private object? Index(object? container, object? index)
    {
        switch (container)
        {
            case Dictionary<string, object?> dictionary when index is string key:
                if (!_isModelledKey(dictionary, key))
                {
                    throw new NotModelledException(key);
                }

                return dictionary[key];
            case List<object?> list when index is long i:
                return list[(int)(i < 0 ? list.Count + i : i)];
            case string text when index is long i:
                return text[(int)i].ToString();
            default:
                throw new NotModelledException($"index {index} of {container?.GetType().Name ?? "None"}");
        }
    }

    private static bool Same(object? left, object? right) => (left, right) switch
    {
        (null, null) => true,
        (null, _) or (_, null) => false,
        (long a, double b) => a == b,
        (double a, long b) => a == b,
        (List<object?> a, List<object?> b) => a.Count == b.Count && a.Zip(b).All(p => Same(p.First, p.Second)),
        (Dictionary<string, object?> a, Dictionary<string, object?> b) => a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && Same(p.Value, v)),
        _ => left.Equals(right),
    };

    private static bool Contains(object? container, object? item) => container switch
    {
        string text => text.Contains((string)item!, StringComparison.Ordinal),
        List<object?> list => list.Any(x => Same(x, item)),
        Dictionary<string, object?> dictionary => dictionary.ContainsKey((string)item!),
        _ => throw new NotModelledException("in " + container),
    };

    private static bool Truthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        Dictionary<string, object?> d => d.Count > 0,
        _ => true,
    };

    private (char Kind, string Text) Next()
    {
        if (_position >= _tokens.Count)
        {
            throw new NotModelledException("syntax: unexpected end");
        }

        return _tokens[_position++];
    }

    private bool Peek(string text) => PeekAt(0, text);

    private bool PeekAt(int offset, string text) =>
        _position + offset < _tokens.Count && _tokens[_position + offset].Kind != 's' && _tokens[_position + offset].Text == text;

    private bool Accept(string text)
    {
        if (!Peek(text))
        {
            return false;
        }

        _position++;
        return true;
    }

    private void Expect(string text)
    {
        if (!Accept(text))
        {
            throw new NotModelledException("syntax: expected " + text);
        }
    }

    private static List<(char Kind, string Text)> Tokenize(string source)
    {
        var tokens = new List<(char, string)>();
        var i = 0;
        while (i < source.Length)
        {
            var c = source[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '\'' or '"' || (c is 'u' or 'b' or 'r' or 'U' or 'B' or 'R' && i + 1 < source.Length && source[i + 1] is '\'' or '"'))
            {
                var raw = c is 'r' or 'R';
                if (c is not ('\'' or '"'))
                {
                    i++;
                }

                tokens.Add(('s', ReadString(source, ref i, raw)));
            }
            else if (char.IsAsciiDigit(c))
            {
                var start = i;
                while (i < source.Length && (char.IsAsciiDigit(source[i]) || source[i] == '.'))
                {
                    i++;
                }

                tokens.Add(('d', source[start..i]));
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                var start = i;
                while (i < source.Length && (char.IsAsciiLetterOrDigit(source[i]) || source[i] == '_'))
                {
                    i++;
                }

                tokens.Add(('n', source[start..i]));
            }
            else
            {
                var two = i + 1 < source.Length ? source.Substring(i, 2) : "";
                if (two is "==" or "!=" or "<=" or ">=")
                {
                    tokens.Add(('o', two));
                    i += 2;
                }
                else
                {
                    tokens.Add(('o', c.ToString()));
                    i++;
                }
            }
        }

        return tokens;
    }

    private static string ReadString(string source, ref int i, bool raw)
    {
        var quote = source[i];
        var triple = i + 2 < source.Length && source[i + 1] == quote && source[i + 2] == quote;
        i += triple ? 3 : 1;
        var text = new StringBuilder();
        while (i < source.Length)
        {
            var c = source[i];
            if (c == quote && (!triple || (i + 2 < source.Length && source[i + 1] == quote && source[i + 2] == quote)))
            {
                i += triple ? 3 : 1;
                return text.ToString();
            }

            if (c == '\\' && !raw && i + 1 < source.Length)
            {
                var e = source[i + 1];
                i += 2;
                switch (e)
                {
                    case 'n': text.Append('\n'); break;
                    case 't': text.Append('\t'); break;
                    case 'r': text.Append('\r'); break;
                    case '0': text.Append('\0'); break;
                    case 'x':
                        text.Append((char)Convert.ToInt32(source.Substring(i, 2), 16));
                        i += 2;
                        break;
                    case 'u':
                        text.Append((char)Convert.ToInt32(source.Substring(i, 4), 16));
                        i += 4;
                        break;
                    case 'U':
                        text.Append(char.ConvertFromUtf32(Convert.ToInt32(source.Substring(i, 8), 16)));
                        i += 8;
                        break;
                    case '\n':
                        break;
                    default:
                        text.Append(e);
                        break;
                }

                continue;
            }

            text.Append(c);
            i++;
        }

        throw new NotModelledException("syntax: unterminated string");
    }
}
