"""The data contract: Avro schemas of every category, the catalog, serde, topic names."""

import warnings

# confluent-kafka's registry client imports authlib's httpx integration, which warns on
# import; the warning is theirs, and users would see it on every command.
warnings.filterwarnings("ignore", message="The httpx module is deprecated")
