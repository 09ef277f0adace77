"""Fuzz the GraphQL API with schemathesis, signed in, against one embedded `ecl` process.

Run by scripts/fuzz (which brings schemathesis). Steps: start `ecl serve` (SQLite in memory,
in-process bus) on a free port; sign in as the bootstrap operator; create a small contract tree
so generated arguments can name real ids (a fuzz dictionary); run schemathesis in GraphQL mode
for ECL_FUZZ_EXAMPLES examples per operation; then check the process is still healthy and its
memory bounded. Fails on any HTTP 5xx, non-GraphQL body, uncoded error or INTERNAL error
(scripts/fuzz_checks.py) and when fewer operations ran than asked.

Environment: ECL_BIN (the binary), ECL_FUZZ_EXAMPLES (default 100), ECL_FUZZ_SEED (default 1),
ECL_FUZZ_WORKERS (default 2), ST (the schemathesis CLI).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "Operator-pass-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gql(base, query, variables=None, token=None):
    req = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"content-type": "application/json"},
    )
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        body = json.load(r)
    if body.get("errors"):
        raise RuntimeError(f"{query}: {body['errors']}")
    return body["data"]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode()


def rss_mb(pid, field="VmRSS:"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


def contract(name, login):
    return {
        "name": name,
        "customer": {
            "company": f"{name} K.K.",
            "address": "1-1 Otemachi, Tokyo",
            "contactName": "Hanako Sato",
            "contactEmail": "contact@example.com",
        },
        "owner": {"loginId": login, "email": f"{login}@example.com", "password": "Owner-pass-1"},
    }


def seed(base, token):
    """A partner with a child, a tenant, a user, a group and a key: ids worth generating."""
    ids = []
    partner = gql(base, "mutation($i: ContractInput!){ createPartnerContract(input:$i){ id owner: users(first: 1){ edges { node { id } } } } }",
                  {"i": contract("Fuzz Partner", "fuzz-partner")}, token)["createPartnerContract"]
    pid = partner["id"]
    ids.append(pid)
    ids += [e["node"]["id"] for e in partner["owner"]["edges"]]
    child = gql(base, "mutation($p: ID!, $i: ContractInput!){ createChildContract(parentId:$p, input:$i){ id } }",
                {"p": pid, "i": contract("Fuzz Child", "fuzz-child")}, token)["createChildContract"]["id"]
    ids.append(child)
    tenant = gql(base, "mutation($c: ID!){ createTenant(contractId:$c, input:{name:\"fuzz\", region:\"jp1\"}){ id workspaceId } }",
                 {"c": child}, token)["createTenant"]
    ids += [tenant["id"], tenant["workspaceId"]]
    user = gql(base, "mutation($c: ID!){ createUser(contractId:$c, input:{loginId:\"fuzz-user\", email:\"fuzz-user@example.com\", password:\"User-pass-1\", role: USER}){ id } }",
               {"c": child}, token)["createUser"]["id"]
    ids.append(user)
    group = gql(base, "mutation($p: ID!){ createContractGroup(partnerId:$p, name:\"fuzz\"){ id } }",
                {"p": pid}, token)["createContractGroup"]["id"]
    ids.append(group)
    return ids


def main():
    binary = os.environ["ECL_BIN"]
    st = os.environ.get("ST", "st")
    examples = int(os.environ.get("ECL_FUZZ_EXAMPLES", "100"))
    seed_value = os.environ.get("ECL_FUZZ_SEED", "1")
    workers = os.environ.get("ECL_FUZZ_WORKERS", "2")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    work = tempfile.mkdtemp(prefix="ecl-fuzz-")
    env = dict(
        os.environ,
        ECL_HTTP_ADDR=f"127.0.0.1:{port}",
        ECL_DATA_DIR=os.path.join(work, "data"),
        ECL_DATABASE_URL="sqlite::memory:",
        ECL_AMQP_URL="memory:",
        ECL_REDIS_URL="memory:",
        ECL_BOOTSTRAP_OPERATOR_PASSWORD=PASSWORD,
        RUST_LOG=os.environ.get("RUST_LOG", "warn"),
    )
    log = open(os.path.join(work, "ecl.log"), "w")
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if get(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                sys.exit(f"fuzz: ecl did not become ready (see {log.name})")
            time.sleep(0.2)
        token = gql(base, "mutation($p: String!){ signIn(loginId:\"operator\", password:$p){ accessToken } }",
                    {"p": PASSWORD})["signIn"]["accessToken"]
        ids = seed(base, token)
        words = ids + ["2026-01", "2026-12", "jp1", "CONTRACTS_READ", "operator", "fuzz-user"]
        config = os.path.join(work, "schemathesis.toml")
        with open(config, "w") as f:
            # Real ids for id arguments most of the time, so resolvers get past "not found";
            # real-looking words for a third of every other string.
            f.write("[dictionaries.ids]\nvalues = %s\n\n" % json.dumps(ids))
            f.write("[dictionaries.months]\nvalues = [\"2026-01\", \"2026-11\", \"2026-12\"]\n\n")
            f.write("[dictionaries.words]\nvalues = %s\n\n" % json.dumps(words))
            f.write("[generation.dictionaries.string]\ndictionary = \"words\"\nprobability = 0.3\n\n")
            for arg in ["id", "contractId", "parentId", "partnerId", "tenantId", "userId", "groupId"]:
                f.write(f'[parameters."*.*.{arg}"]\ndictionary = "ids"\nprobability = 0.8\n\n')
            f.write('[parameters."*.*.month"]\ndictionary = "months"\nprobability = 0.8\n')
        count_file = os.path.join(work, "responses")
        rss_before = rss_mb(proc.pid)
        started = time.time()
        cmd = [
            st, "--config-file", config, "run", f"{base}/graphql",
            "-H", f"Authorization: Bearer {token}",
            "--checks", "ecl_no_server_error",
            "--phases", "fuzzing",
            "-n", str(examples),
            "--seed", seed_value,
            "-w", workers,
            "--request-timeout", "30",
            # Signing out would end the session every later request uses.
            "--exclude-name", "Mutation.signOut",
            "--no-shrink",
        ]
        run = subprocess.run(
            cmd, env=dict(os.environ, SCHEMATHESIS_HOOKS="fuzz_checks", ECL_FUZZ_COUNT_FILE=count_file,
                          PYTHONPATH=HERE), cwd=work, capture_output=True, text=True,
        )
        took = time.time() - started
        with open(count_file) if os.path.exists(count_file) else open(os.devnull) as f:
            statuses = [line.strip() for line in f if line.strip()]
        with open(os.path.join(work, "schemathesis.out"), "w") as f:
            f.write(run.stdout + run.stderr)
        keep = ("generated", "failures", "passed", "never returned data", "only 401")
        summary = [l for l in run.stdout.splitlines() if any(k in l for k in keep)]
        healthy = get(f"{base}/healthz")[0] == 200 and get(f"{base}/readyz")[0] == 200
        gql(base, "{ __typename }")
        _, metrics = get(f"{base}/metrics")
        rss_after, peak = rss_mb(proc.pid), rss_mb(proc.pid, "VmHWM:")
        by_status = {}
        for s in statuses:
            by_status[s] = by_status.get(s, 0) + 1
        print(f"fuzz: {len(statuses)} operations in {took:.0f} s, HTTP statuses {dict(sorted(by_status.items()))}")
        print(f"fuzz: RSS {rss_before:.0f} -> {rss_after:.0f} MB (peak {peak:.0f} MB), healthy: {healthy}")
        for l in summary:
            print(f"fuzz: schemathesis: {l.strip()}")
        failed = run.returncode != 0 or not healthy
        if any(s.startswith("5") for s in statuses):
            failed = True
        if len(statuses) < examples * 10:
            print(f"fuzz: only {len(statuses)} operations ran")
            failed = True
        if "process_resident_memory_bytes" not in metrics:
            print("fuzz: /metrics lacks process metrics")
            failed = True
        if failed:
            print(run.stdout[-20000:])
            print(run.stderr[-5000:], file=sys.stderr)
            sys.exit("fuzz: FAILED")
        print("fuzz: 0 server errors, 0 INTERNAL")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
