/**
 * Compiled mode (--dist): the harness's own child processes (receivers, ceiling, BullMQ) run as
 * plain JavaScript, like the service's dist/ build, so that no process carries the tsx loader
 * (about 25–30 MB of RSS and some CPU). The bench sources are transpiled one file at a time with
 * TypeScript into node_modules/.cache/sfbench/, from where bare imports still resolve to the
 * repository's node_modules.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from './proc.js';

export const COMPILED_ROOT = path.join(REPO_ROOT, 'node_modules', '.cache', 'sfbench');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'results') out.push(...(await sources(full)));
    } else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Transpile bench/**.ts; returns how to map a bench script to its compiled file. */
export async function compileBench(): Promise<(script: string) => string> {
  const { default: ts } = await import('typescript');
  await mkdir(COMPILED_ROOT, { recursive: true });
  await writeFile(path.join(COMPILED_ROOT, 'package.json'), '{ "type": "module", "private": true }\n');
  for (const file of await sources(path.join(REPO_ROOT, 'bench'))) {
    const rel = path.relative(REPO_ROOT, file);
    const out = path.join(COMPILED_ROOT, rel.replace(/\.ts$/, '.js'));
    const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false, esModuleInterop: true },
    });
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  return (script) => path.join(COMPILED_ROOT, script.replace(/\.ts$/, '.js'));
}

/**
 * Copy the service's build (dist/, package.json, web/dist) to a private folder, so that a rebuild
 * of dist/ while the harness runs (by someone working in the same checkout) cannot change the code
 * under test halfway through. Returns the path of the copied entry point.
 */
export async function snapshotDist(): Promise<string> {
  const root = path.join(COMPILED_ROOT, 'service');
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  await cp(path.join(REPO_ROOT, 'dist'), path.join(root, 'dist'), { recursive: true });
  await cp(path.join(REPO_ROOT, 'package.json'), path.join(root, 'package.json'));
  const web = path.join(REPO_ROOT, 'web', 'dist');
  if (existsSync(web)) await cp(web, path.join(root, 'web', 'dist'), { recursive: true });
  return path.join(root, 'dist', 'src', 'main.js');
}
