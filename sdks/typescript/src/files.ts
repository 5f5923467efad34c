/** Files for uploads: a Blob or File, bytes, or (in Node and Deno) a path. */

/** A Blob (or File), bytes, or a path to read (Node and Deno only). */
export type FileInput = Blob | Uint8Array | ArrayBuffer | string;

const TYPES: Record<string, string> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
  webm: "video/webm",
  mov: "video/quicktime",
};

export function isFileInput(value: unknown): value is Blob | Uint8Array | ArrayBuffer {
  return value instanceof Blob || value instanceof Uint8Array || value instanceof ArrayBuffer;
}

/** The value as a Blob and the file name to send with it. */
export async function toUpload(value: FileInput, field: string): Promise<[Blob, string]> {
  if (typeof value === "string") return readPath(value);
  if (value instanceof Blob) {
    const name = (value as { name?: unknown }).name;
    return [value, typeof name === "string" && name ? name : field];
  }
  return [new Blob([value as Uint8Array<ArrayBuffer>]), field];
}

async function readPath(path: string): Promise<[Blob, string]> {
  let readFile: (path: string) => Promise<Uint8Array>;
  try {
    // Loaded only when a path is given, so browsers and workers never fetch it.
    ({ readFile } = await import("node:fs/promises"));
  } catch {
    throw new TypeError(
      `A path (${path}) can only be read in Node or Deno: pass a Blob, File or bytes instead.`,
    );
  }
  const name = path.split(/[\\/]/).pop() || "file";
  const extension = name.includes(".") ? name.split(".").pop()!.toLowerCase() : "";
  const bytes = (await readFile(path)) as Uint8Array<ArrayBuffer>;
  return [new Blob([bytes], { type: TYPES[extension] ?? "" }), name];
}

/** Writes a download to a path (Node and Deno only). */
export async function writePath(path: string, blob: Blob): Promise<void> {
  const { writeFile } = await import("node:fs/promises");
  await writeFile(path, new Uint8Array(await blob.arrayBuffer()));
}
