// What the browser suites share: the ecsd binary started on a free port with its banner read,
// and the official Node SDK doing what a user's automation would.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");

const { BasicCredentials } = require("@huaweicloud/huaweicloud-sdk-core");
const ecs = require("@huaweicloud/huaweicloud-sdk-ecs");

// The default catalogue's image, VPC and subnet.
const IMAGE = "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01";
const VPC = "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e01";
const SUBNET = "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f01";

/** Starts ecsd on a free port and reads its banner: endpoint, console URL, credential. */
function startEcsd() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.ECSD_BIN, ["serve", "--ephemeral", "--listen", "127.0.0.1:0", "--timings", "instant"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ECSD_LOG: "warn" },
    });
    const found = {};
    const lines = readline.createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const [, key, value] = line.match(/^\s*(ecsd listening on|console:|project id:|access key:|secret key:)\s*(\S+)/) || [];
      if (key) found[key] = value;
      if (found["secret key:"] && found["console:"]) {
        resolve({
          child,
          endpoint: found["ecsd listening on"],
          consoleUrl: found["console:"],
          projectId: found["project id:"],
          accessKey: found["access key:"],
          secretKey: found["secret key:"],
        });
      }
    });
    child.on("exit", (code) => reject(new Error(`ecsd exited with ${code} before its banner`)));
  });
}

function ids(list) {
  return list.map((id) => new ecs.ServerId(id));
}

/** The SDK's calls a browser test makes, signed with the banner's credential. */
class Automation {
  constructor(banner) {
    const auth = new BasicCredentials().withAk(banner.accessKey).withSk(banner.secretKey).withProjectId(banner.projectId);
    this.client = ecs.EcsClient.newBuilder().withCredential(auth).withEndpoint(banner.endpoint).build();
  }

  /** Creates `count` servers named `name` (web-0001, …) tagged role=web; the SDK's answer. */
  create(name, count) {
    const server = new ecs.PrePaidServer(IMAGE, "s6.small.1", name, VPC, [new ecs.PrePaidServerNic().withSubnetId(SUBNET)],
      new ecs.PrePaidServerRootVolume("SSD")).withCount(count).withServerTags([new ecs.PrePaidServerTag("role", "web")]);
    return this.client.createServers(new ecs.CreateServersRequest().withBody(new ecs.CreateServersRequestBody(server)));
  }

  async waitJob(jobId) {
    for (;;) {
      const job = await this.client.showJob(new ecs.ShowJobRequest(jobId));
      if (job.status === "SUCCESS" || job.status === "FAIL") return job;
      await new Promise((done) => setTimeout(done, 50));
    }
  }

  async stop(list) {
    const body = new ecs.BatchStopServersRequestBody(new ecs.BatchStopServersOption(ids(list)).withType("SOFT"));
    const { job_id: jobId } = await this.client.batchStopServers(new ecs.BatchStopServersRequest().withBody(body));
    return jobId;
  }

  async start(list) {
    const body = new ecs.BatchStartServersRequestBody(new ecs.BatchStartServersOption(ids(list)));
    const { job_id: jobId } = await this.client.batchStartServers(new ecs.BatchStartServersRequest().withBody(body));
    return jobId;
  }

  async delete(list) {
    const answer = await this.client.deleteServers(new ecs.DeleteServersRequest().withBody(new ecs.DeleteServersRequestBody(ids(list))));
    return answer.job_id;
  }
}

/** Where the screenshot `name` goes: under ECSD_SCREENSHOTS, for a person to look at. */
function screenshot(name) {
  fs.mkdirSync(process.env.ECSD_SCREENSHOTS, { recursive: true });
  return path.join(process.env.ECSD_SCREENSHOTS, `${name}.png`);
}

module.exports = { startEcsd, Automation, screenshot };
