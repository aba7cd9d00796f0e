//! The HTTP-level and process-level tests, one module per API family or concern, in one crate
//! so the whole dependency tree is linked once (`cargo test --test it`).

#![recursion_limit = "256"]

mod at_rest;
mod auth;
mod batch_actions;
mod batch_format_ops;
mod batch_planner_props;
mod catalogue;
mod common;
mod concurrency;
mod console;
mod control;
mod control_tenancy;
mod crash;
mod create_servers;
mod ctl;
mod day2;
mod delete_servers;
mod disk_crash;
mod events;
mod evs;
mod glance_neutron;
mod groups;
mod hostile_input;
mod keystone;
mod lifecycle;
mod limits;
mod list_servers_details;
mod metadata;
mod metrics;
mod migrate;
mod nic_changes;
mod nic_crash;
mod nics;
mod nova;
mod nova_interfaces;
mod nova_resize;
mod nova_volumes;
mod observability;
mod openapi;
mod os_change;
mod pg;
mod reads;
mod recycle_bin;
mod replicas;
mod routing;
mod show_job;
mod show_server;
mod store_conformance;
mod store_faults;
mod tags;
mod terraform_replay;
mod update_server;
mod volumes;
mod vpc;
