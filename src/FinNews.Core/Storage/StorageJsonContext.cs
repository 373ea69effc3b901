using System.Text.Json.Serialization;

namespace FinNews.Core.Storage;

[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(IReadOnlyList<IReadOnlyList<string>>))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
