using System.Text.Json;

namespace Insights.ControlPlane.Cli.Events;

/// <summary>
/// Where an import got to: the next line and its byte offset, written after every batch ingest acknowledged (to a
/// temporary file, then renamed, so a crash leaves the old checkpoint or the new one, never half of one). The file's
/// length is kept too: a checkpoint of another or a changed file is refused rather than resumed at a wrong offset.
/// </summary>
public sealed record ImportCheckpoint(string File, long FileLength, long NextLine, long Offset, long Accepted, bool Done)
{
    public static ImportCheckpoint? Read(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<ImportCheckpoint>(System.IO.File.ReadAllBytes(path))
                ?? throw new AdminException($"the checkpoint {path} is empty; delete it to start from the first line");
        }
        catch (JsonException)
        {
            throw new AdminException($"the checkpoint {path} is not one this command wrote; delete it to start from the first line, or pass --from-line");
        }
    }

    public void Write(string path)
    {
        var temporary = path + ".tmp";
        System.IO.File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(this));
        System.IO.File.Move(temporary, path, overwrite: true);
    }
}
