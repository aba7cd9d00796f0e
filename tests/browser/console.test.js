// The web console in a real browser: Debian's chromium driven by playwright-core, against the
// ecsd binary, with the official Node SDK doing what a user's automation would. The tests run
// in order on one ecsd and one signed-in page, as a person would use it: sign in with the
// banner's URL, watch servers appear, a batch stop finish, an injected fault fail a sub-job, a
// snapshot restored. Each view is saved as a screenshot under target/console-screenshots/.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");

const { chromium } = require("playwright-core");
const { startEcsd, Automation, screenshot } = require("./ecsd.js");

let ecsd; // the child process
let banner; // what ecsd printed: endpoint, console URL, credential
let sdk; // the Node SDK's calls
let browser;
let page;
let servers = [];

async function shot(name) {
  await page.screenshot({ path: screenshot(name), fullPage: true });
}

/** Goes to a view by its navigation link, as a person would. */
async function view(name) {
  await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name, exact: true }).click();
  await page.getByRole("heading", { level: 1, name }).waitFor();
}

before(async () => {
  banner = await startEcsd();
  ecsd = banner.child;
  sdk = new Automation(banner);
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
});

after(async () => {
  if (browser) await browser.close();
  if (ecsd) ecsd.kill("SIGTERM");
});

test("the banner's URL signs in, and leaves no token in the address bar", async () => {
  assert.match(banner.consoleUrl, /\/console\?token=[0-9a-f]{64}$/);
  await page.goto(banner.consoleUrl);
  await page.getByRole("heading", { level: 1, name: "Fleet" }).waitFor();
  assert.equal(new URL(page.url()).search, "");
  await page.getByText(`project ${banner.projectId}`).waitFor();
  await page.getByText("No servers match.").waitFor();
  const cookies = await page.context().cookies();
  assert.ok(cookies.length === 1 && cookies[0].httpOnly && cookies[0].sameSite === "Strict", JSON.stringify(cookies));
  await page.locator("#live.on").waitFor();
});

test("servers created with the SDK appear in the fleet without a reload", async () => {
  const created = await sdk.create("web", 3);
  servers = created.serverIds;
  assert.equal(servers.length, 3);
  const rows = page.locator("tbody tr[data-id]");
  await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-id]").length === 3);
  await page.getByText("1–3 of 3 servers").waitFor();
  await sdk.waitJob(created.job_id);
  await page.waitForFunction(() => [...document.querySelectorAll("tbody tr[data-id] .badge")].every((b) => b.textContent === "ACTIVE"));
  assert.equal(await rows.count(), 3);
  // Search by name, then by status: the page is re-read with the filter.
  await page.getByLabel("Search by name").fill("web-0002");
  await page.getByText("1–1 of 1 servers").waitFor();
  await page.getByLabel("Search by name").fill("");
  await page.getByText("1–3 of 3 servers").waitFor();
  await shot("fleet");
});

test("a batch stop's job reaches SUCCESS in the jobs view", async () => {
  await view("Jobs");
  const jobId = await sdk.stop(servers);
  const card = page.locator(`#job-${jobId}`);
  await card.waitFor();
  await page.locator(`#job-${jobId}[data-status="SUCCESS"]`).waitFor();
  await card.getByText("3 of 3 sub-jobs done: 3 succeeded, 0 failed").waitFor();
  assert.equal(await card.getByRole("progressbar").getAttribute("aria-valuenow"), "3");
  await shot("jobs");
});

test("a fault rule added in the form fails the next stop's sub-job, shown in the jobs view", async () => {
  await sdk.waitJob(await sdk.start(servers));
  await view("Faults");
  await page.locator("#fault-operation").selectOption("stop");
  await page.locator("#fault-server_id").fill(servers[1]);
  await page.locator("#fault-count").fill("1");
  await page.locator("#fault-effect").selectOption("sub_job_fail");
  await page.locator("#effect-code").fill("Ecs.0226");
  await page.locator("#effect-message").fill("stop failed");
  await page.getByRole("button", { name: "Add the rule" }).click();
  const rule = page.locator("tbody tr[data-id]");
  await rule.getByText("sub_job_fail").waitFor();
  await rule.getByText("0 of 0").waitFor();
  await shot("faults");

  const jobId = await sdk.stop(servers);
  await view("Jobs");
  await page.locator(`#job-${jobId}[data-status="FAIL"]`).waitFor();
  const card = page.locator(`#job-${jobId}`);
  await card.getByText("2 succeeded, 1 failed").waitFor();
  const failed = card.locator('tr[data-status="FAIL"]');
  assert.equal(await failed.count(), 1);
  await failed.getByText("Ecs.0226").waitFor();
  await failed.getByText("stop failed").waitFor();
  await shot("jobs-with-fault");

  // The rule's counter went up: the faults view follows the fault events.
  await view("Faults");
  await page.locator("tbody tr[data-id]").getByText(/^1 of /).waitFor();
});

test("a snapshot saved and restored puts the fleet back", async () => {
  await view("Snapshots");
  await page.getByLabel("Name").fill("three-stopped");
  await page.getByRole("button", { name: "Save a snapshot" }).click();
  const row = page.locator('tr[data-name="three-stopped"]');
  await row.waitFor();
  await shot("snapshots");

  await sdk.waitJob(await sdk.delete([servers[0]]));
  await view("Fleet");
  await page.getByText("1–2 of 2 servers").waitFor();

  await view("Snapshots");
  await row.getByRole("button", { name: "Restore" }).click();
  await page.getByText("Restored three-stopped").waitFor();
  await view("Fleet");
  await page.getByText("1–3 of 3 servers").waitFor();
});

test("the calls view lists the SDK's calls, filtered by operation", async () => {
  await view("Calls");
  await page.getByRole("cell", { name: "BatchStopServers" }).first().waitFor();
  await page.getByLabel("Operation").fill("CreateServers");
  await page.getByText("1 calls shown").waitFor();
  await page.getByLabel("Operation").fill("");
  await shot("calls");
});

test("a server's view shows its NICs, disks and timeline", async () => {
  await view("Fleet");
  await page.getByRole("link", { name: "web-0001" }).click();
  await page.getByRole("heading", { level: 1, name: /^Server/ }).waitFor();
  await page.getByRole("heading", { name: "NICs" }).waitFor();
  await page.getByRole("cell", { name: /^192\.168\./ }).first().waitFor();
  await page.locator(".timeline li").getByText("BatchStopServers").first().waitFor();
  await shot("server");
});

test("the clock advances and settles; connect shows the credential and snippets", async () => {
  await view("Clock");
  const before = Date.parse((await page.locator(".clock-now").textContent()).replace(" ", "T"));
  await page.getByLabel("Seconds").fill("3600");
  await page.getByRole("button", { name: "Advance" }).click();
  await page.getByText("Advanced 3600 s").waitFor();
  const later = Date.parse((await page.locator(".clock-now").textContent()).replace(" ", "T"));
  assert.ok(later - before >= 3600 * 1000, `${before} → ${later}`);
  await page.getByRole("button", { name: "Settle" }).click();
  await page.getByText("Settled").waitFor();
  await shot("clock");

  await view("Connect");
  await page.getByText(banner.accessKey).first().waitFor();
  await page.getByRole("heading", { name: "Python SDK" }).waitFor();
  await page.getByRole("heading", { name: "Node SDK" }).waitFor();
  await page.getByRole("heading", { name: /clouds\.yaml/ }).waitFor();
  await shot("connect");
});

test("the views are usable by keyboard and readable at phone width", async () => {
  await view("Fleet");
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "fleet-search");
  // Tab order reaches the navigation and Enter follows a link.
  await page.locator('#nav a[data-view="jobs"]').focus();
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { level: 1, name: "Jobs" }).waitFor();
  await page.setViewportSize({ width: 390, height: 844 });
  await view("Fleet");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await shot("fleet-phone");
  await view("Jobs");
  await page.locator("article.job").first().waitFor();
  await shot("jobs-phone");
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("signing out ends the session", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  const answer = await page.evaluate(async () => (await fetch("/console/api/me")).status);
  assert.equal(answer, 401);
});
