/**
 * The text of criu-amdgpu.proto (this directory), read once when the codec loads. The build
 * copies the file beside the compiled module (package.json "build", "bench"), so the package
 * (dist/) reads the very file the sources do: one schema, no copy to keep in step.
 */
import { readFileSync } from 'node:fs';

export const CRIU_AMDGPU_PROTO = readFileSync(new URL('./criu-amdgpu.proto', import.meta.url), 'utf8');
