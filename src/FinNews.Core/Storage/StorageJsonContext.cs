using System.Text.Json.Serialization;

namespace FinNews.Core.Storage;

[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
