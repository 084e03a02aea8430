/**
 * The Kubernetes manifests in deploy/, parsed with `yaml`: three replicas with probes on the
 * service's health routes, the store URL and keys from the Secret, and no secret in the
 * ConfigMap.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url))

interface Manifest {
  kind: string
  metadata: { name: string }
  // biome-ignore lint/suspicious/noExplicitAny: manifests are read as loose YAML
  spec?: any
  data?: Record<string, string>
  stringData?: Record<string, string>
}

function load(file: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(`${DEPLOY}${file}`, 'utf8'))
  return documents.map((document) => {
    assert.deepEqual(document.errors, [], `${file} parses`)
    return document.toJS() as Manifest
  })
}

function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((entry) => entry.kind === kind && entry.metadata.name === name)
  assert.ok(found, `${kind} ${name} exists`)
  return found
}

describe('deploy manifests', () => {
  const service = load('confide.yaml')
  const postgres = load('postgres.yaml')
  const secret = find(load('secret.example.yaml'), 'Secret', 'confide')
  const deployment = find(service, 'Deployment', 'confide')
  const container = deployment.spec.template.spec.containers[0]

  it('runs three replicas', () => {
    assert.equal(deployment.spec.replicas, 3)
  })

  it('probes /readyz and /healthz on the serving port', () => {
    assert.equal(container.readinessProbe.httpGet.path, '/readyz')
    assert.equal(container.livenessProbe.httpGet.path, '/healthz')
    assert.equal(container.readinessProbe.httpGet.port, 'http')
    assert.equal(container.ports[0].name, 'http')
    assert.equal(container.ports[0].containerPort, 8080)
  })

  it('serves on every interface of the pod', () => {
    assert.ok(container.args.includes('serve'))
    assert.ok(container.args.includes('--host=0.0.0.0'))
  })

  it('takes the store URL from the Secret', () => {
    const store = container.env.find((entry: { name: string }) => entry.name === 'CONFIDE_STORE')
    assert.deepEqual(store.valueFrom.secretKeyRef, { name: 'confide', key: 'store-url' })
    assert.ok(container.args.includes('--store=$(CONFIDE_STORE)'))
    assert.match(secret.stringData?.['store-url'] ?? '', /^postgres:\/\/.*@confide-postgres:5432\//)
  })

  it('mounts the keys from the Secret, read-only', () => {
    const volume = deployment.spec.template.spec.volumes.find(
      (entry: { name: string }) => entry.name === 'keys',
    )
    assert.equal(volume.secret.secretName, 'confide')
    const keys = volume.secret.items.map((item: { key: string }) => item.key).sort()
    assert.deepEqual(keys, ['admin.pub', 'ear-signing-key.pem', 'master-key'])
    for (const key of keys) assert.ok(key in (secret.stringData ?? {}), `${key} is in the Secret`)
    const mount = container.volumeMounts.find((entry: { name: string }) => entry.name === 'keys')
    assert.equal(mount.readOnly, true)
    for (const flag of ['--admin-key', '--master-key-file', '--signing-key'])
      assert.ok(
        container.args.some((arg: string) => arg.startsWith(`${flag}=${mount.mountPath}/`)),
        `${flag} reads the mounted Secret`,
      )
  })

  it('keeps secrets out of the ConfigMap', () => {
    const config = find(service, 'ConfigMap', 'confide')
    for (const [name, value] of Object.entries(config.data ?? {})) {
      assert.doesNotMatch(name, /key|secret|password|token|store/i, name)
      assert.doesNotMatch(String(value), /postgres:\/\/|BEGIN|[0-9a-f]{32}/i, name)
    }
  })

  it('holds only placeholders in the example Secret', () => {
    for (const value of Object.values(secret.stringData ?? {})) assert.match(value, /REPLACE-ME/)
  })

  it('selects the pods with the Service', () => {
    const selector = find(service, 'Service', 'confide').spec.selector
    assert.deepEqual(selector, deployment.spec.template.metadata.labels)
  })

  it('runs PostgreSQL as a StatefulSet', () => {
    const statefulSet = find(postgres, 'StatefulSet', 'confide-postgres')
    const env = statefulSet.spec.template.spec.containers[0].env
    const password = env.find((entry: { name: string }) => entry.name === 'POSTGRES_PASSWORD')
    assert.deepEqual(password.valueFrom.secretKeyRef, { name: 'confide', key: 'postgres-password' })
    assert.equal(statefulSet.spec.volumeClaimTemplates.length, 1)
    const pgService = find(postgres, 'Service', 'confide-postgres')
    assert.equal(pgService.spec.ports[0].port, 5432)
  })
})
