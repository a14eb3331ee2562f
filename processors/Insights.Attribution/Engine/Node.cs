namespace Insights.Attribution.Engine;

/// <summary>
/// Nodes of a site's identity graph: every id that can name a person (anonymous visitor id, user id, e-mail hash) and
/// every chat and order, as one string with a one-letter kind prefix. A chat or order is linked to each id its events
/// carry, so the component of a visitor holds their ids, chats and orders together.
/// </summary>
/// <remarks>
/// The person id of a component is its smallest identity node in ordinal order. The prefixes sort anonymous ids
/// (<c>a:</c>) before e-mail hashes (<c>e:</c>) and user ids (<c>u:</c>), so a person is named by a visitor id
/// whenever they have one, and the name only ever moves to a smaller id as components merge.
/// </remarks>
public static class Node
{
    /// <summary>Longest id (without prefix) taken into the graph; longer ones are not ids but garbage or attacks.</summary>
    public const int MaxIdLength = 256;

    public static string Anonymous(string id) => "a:" + id;

    public static string User(string id) => "u:" + id;

    public static string Email(string hash) => "e:" + hash;

    public static string Chat(string id) => "c:" + id;

    public static string Order(string id) => "o:" + id;

    /// <summary>A node that names a person rather than a chat or an order.</summary>
    public static bool IsIdentity(string node) => node.Length > 2 && node[0] is 'a' or 'e' or 'u';

    public static bool IsChat(string node) => node.Length > 2 && node[0] == 'c';

    public static bool IsOrder(string node) => node.Length > 2 && node[0] == 'o';

    public static bool IsAnonymous(string node) => node.Length > 2 && node[0] == 'a';

    /// <summary>The id without its prefix.</summary>
    public static string Value(string node) => node[2..];

    /// <summary>Whether an id from an event may become a node: present, not absurdly long, no control characters.</summary>
    public static bool IsUsable(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }
}
