import { create, createFileRegistry, fromBinary, toBinary, type DescMessage, type JsonObject } from "@bufbuild/protobuf";
import { AnySchema, FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema, file_google_protobuf_struct, type Any } from "@bufbuild/protobuf/wkt";

/**
 * `xds.type.v3.TypedStruct` (and its predecessor `udpa.type.v1.TypedStruct`):
 * an extension config written as JSON (a Struct) plus the type URL it stands
 * for. Envoy converts it to that type and validates the result, so we do too.
 * Neither is in the generated Envoy API, so their two fields are described here.
 */
export const TYPED_STRUCT_NAMES: ReadonlySet<string> = new Set(["xds.type.v3.TypedStruct", "udpa.type.v1.TypedStruct"]);

let schemas: Map<string, DescMessage> | undefined;

function schemaFor(typeName: string): DescMessage {
  if (schemas === undefined) {
    schemas = new Map();
    for (const full of TYPED_STRUCT_NAMES) {
      const pkg = full.slice(0, full.lastIndexOf("."));
      const file = create(FileDescriptorProtoSchema, {
        name: `${pkg.replaceAll(".", "/")}/typed_struct.proto`,
        package: pkg,
        syntax: "proto3",
        dependency: ["google/protobuf/struct.proto"],
        messageType: [
          {
            name: "TypedStruct",
            field: [
              { name: "type_url", jsonName: "typeUrl", number: 1, type: FieldDescriptorProto_Type.STRING, label: FieldDescriptorProto_Label.OPTIONAL },
              {
                name: "value",
                jsonName: "value",
                number: 2,
                type: FieldDescriptorProto_Type.MESSAGE,
                typeName: ".google.protobuf.Struct",
                label: FieldDescriptorProto_Label.OPTIONAL,
              },
            ],
          },
        ],
      });
      const desc = createFileRegistry(file, () => file_google_protobuf_struct).getMessage(full);
      if (desc !== undefined) schemas.set(full, desc);
    }
  }
  return schemas.get(typeName)!;
}

/** Decodes a TypedStruct's bytes into the type URL and JSON it carries. */
export function decodeTypedStruct(typeName: string, bytes: Uint8Array): { typeUrl: string; value: JsonObject } {
  const m = fromBinary(schemaFor(typeName), bytes) as unknown as { typeUrl: string; value?: JsonObject };
  return { typeUrl: m.typeUrl, value: m.value ?? {} };
}

/**
 * Packs JSON as an `xds.type.v3.TypedStruct` Any standing for `typeUrl` (for
 * tests and callers that build configs from JSON); Envoy, and the library's
 * rule check, read it as the type it names.
 *
 * @param typeUrl - The type the JSON stands for, e.g. `type.googleapis.com/envoy.extensions.filters.http.router.v3.Router`.
 * @param value - The message as proto3 JSON.
 * @returns A `google.protobuf.Any` holding the TypedStruct.
 */
export function typedStructAny(typeUrl: string, value: JsonObject): Any {
  const desc = schemaFor("xds.type.v3.TypedStruct");
  const bytes = toBinary(desc, create(desc, { typeUrl, value } as never));
  return create(AnySchema, { typeUrl: "type.googleapis.com/xds.type.v3.TypedStruct", value: bytes });
}
