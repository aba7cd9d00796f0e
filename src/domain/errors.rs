//! The one catalogue of error codes ecsd answers with (contract section 6).
//!
//! Each code appears once, with its HTTP status and its default message. The api layer renders
//! an [`Error`] into the wire body; nothing else in the code base spells a code string.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `Common.0001`: an unexpected failure inside ecsd (store unavailable, I/O error).
    Internal,
    /// `Common.0002`: a POST/PUT without a body.
    EmptyBody,
    /// `Common.0011`: no job with that id in this project.
    JobNotFound,
    /// `Ecs.0001`: the project's instance, core or RAM quota would be exceeded.
    QuotaExceeded,
    /// `Ecs.0003`: the project is unknown or the caller may not use it.
    Forbidden,
    /// `Ecs.0005`: the request body or a parameter is invalid.
    InvalidRequest,
    /// `Ecs.0005` with 413: the request body is over the size limit.
    BodyTooLarge,
    /// `Ecs.0023`: the project of the credential differs from the project in the URL.
    ProjectMismatch,
    /// `Ecs.0010`: the requested private IP address is already in use.
    IpInUse,
    /// `Ecs.0011`: the password does not meet the complexity rules.
    WeakPassword,
    /// `Ecs.0012`: the subnet has no free IP address left.
    SubnetFull,
    /// `Ecs.0014`: the VPC does not exist or a network parameter is invalid.
    InvalidNetwork,
    /// `Ecs.0029`: the flavor does not exist.
    FlavorNotFound,
    /// `Ecs.0031`: the image does not exist.
    ImageNotFound,
    /// `Ecs.0032`: the image is not active.
    ImageNotActive,
    /// `Ecs.0038`: the subnet does not exist.
    SubnetNotFound,
    /// `Ecs.0039`: the requested IP address is not inside the subnet.
    IpNotInSubnet,
    /// `Ecs.0041`: the description is too long or contains `<`/`>`.
    InvalidDescription,
    /// `Ecs.0042`: too many data disks.
    TooManyDataDisks,
    /// `Ecs.0043`: the disk type does not exist.
    UnknownVolumeType,
    /// `Ecs.0050`: too many NICs.
    TooManyNics,
    /// `Ecs.0064`: the subnet does not belong to the VPC given in `vpcid`.
    SubnetNotInVpc,
    /// `Ecs.0100`: the server's status does not allow the operation.
    WrongStatus,
    /// `Ecs.0114`: no server with that id in this project.
    ServerNotFound,
    /// `Ecs.0118`: too many servers in one batch request.
    TooManyServers,
    /// `Ecs.0122`: an `X-Client-Token` reused with different parameters.
    ClientTokenReused,
    /// `Ecs.0123`: an `X-Client-Token` that is not a lower-case UUID.
    ClientTokenInvalid,
    /// `Ecs.0124`: an `X-Client-Token` first used more than 8 hours ago.
    ClientTokenExpired,
    /// `Ecs.0603`: another operation is running on the server.
    ServerBusy,
    /// `Ecs.0605`: the server is locked.
    ServerLocked,
    /// `Ecs.0611`: one or more servers of a batch failed their check.
    BatchFailed,
    /// `Ecs.0804`: the target flavor is not in the server's resize list.
    FlavorNotAllowed,
    /// `Ecs.0810`: the target flavor equals the current one.
    SameFlavor,
    /// `Ecs.0905`: too many tags.
    TooManyTags,
    /// `Ecs.0906`: an invalid tag.
    InvalidTag,
    /// `Ecs.0908`: a tag key appears twice.
    DuplicateTagKey,
    /// `Ecs.0913`: `count` is out of range.
    InvalidCount,
    /// `Ecs.0914`: the server name is too long.
    NameTooLong,
    /// `Ecs.0915`: the server name has invalid characters.
    NameInvalid,
    /// `Ecs.1000`: no such resource (unknown path).
    ResourceNotFound,
    /// `Ecs.1001`: the server is already being deleted.
    AlreadyDeleting,
    /// `Ecs.0022`: the project's ECS group quota, or a group's member quota, would be exceeded.
    GroupQuotaExceeded,
    /// `Ecs.0319`: no host can take the server (capacity, or an anti-affinity group).
    NoValidHost,
    /// `Ecs.0221`: a cold migration to the host the server is on.
    SameHost,
    /// `Common.0503` with 503: the store has no space left for the write (ecsd's own code).
    StoreFull,
    /// `Common.0503` with 503: ecsd cannot serve the request now (it is shutting down).
    Unavailable,
    /// `Ecs.0003` with 403: a control action across projects, without an admin credential.
    NotAdmin,
    /// `Ecs.0057`: the disk is already attached to the server.
    VolumeAlreadyAttached,
    /// `Ecs.0103`: the disk does not exist or is not available (nor shared and in use).
    VolumeNotAvailable,
    /// `Ecs.0104`: the server holds the most disks it can.
    TooManyVolumes,
    /// `Ecs.0111`: the disk is not attached to the server.
    VolumeNotAttached,
    /// `Ecs.0121`: the disk and the server are in different availability zones.
    VolumeOtherZone,
    /// `EVS.5400`: a malformed EVS request (body, query or path).
    EvsMalformed,
    /// `EVS.5400` with 413: an EVS request body over the size limit.
    EvsBodyTooLarge,
    /// `EVS.1003`: the disk name is too long.
    EvsInvalidName,
    /// `EVS.1004`: the disk description is too long or has `<`/`>`.
    EvsInvalidDescription,
    /// `EVS.1007`: an update with neither name nor description.
    EvsNothingToUpdate,
    /// `EVS.1010`: the disk size is missing or out of range.
    EvsInvalidSize,
    /// `EVS.1015`: an extend to a size not over the current one.
    EvsSizeNotLarger,
    /// `EVS.1020`: the disk type does not exist.
    EvsInvalidVolumeType,
    /// `EVS.1021`: `count` is out of range.
    EvsInvalidCount,
    /// `EVS.1023`: the list `limit` is out of range.
    EvsInvalidLimit,
    /// `EVS.1024`: the list `marker` is not a disk of the project.
    EvsInvalidMarker,
    /// `EVS.1036`: the availability zone does not exist.
    EvsInvalidZone,
    /// `EVS.1039`: the list `sort_key` is unknown.
    EvsInvalidSortKey,
    /// `EVS.1040`: the list `sort_dir` is neither `asc` nor `desc`.
    EvsInvalidSortDir,
    /// `EVS.1046`: a delete of a disk that is not `available` (or `error`).
    EvsDeleteStatus,
    /// `EVS.1064`: an extend of a disk that is neither `available` nor `in-use`.
    EvsExtendStatus,
    /// `EVS.1065`: an extend of a shared disk that is not `available`.
    EvsExtendShared,
    /// `EVS.5403` with 403: the project is unknown or the caller may not use it (EVS paths).
    EvsForbidden,
    /// `EVS.5404` with 404: no such disk in the project.
    VolumeNotFound,
    /// `EVS.5500` with 500: an unexpected failure, on EVS paths.
    EvsInternal,
    /// `EVS.5503` with 503: ecsd cannot serve the EVS request now.
    EvsUnavailable,
    /// `Ecs.0014`: a security group named in a request does not exist.
    SecurityGroupMissing,
    /// `Ecs.0085`: the server has no NIC with that port id.
    NicNotOnServer,
    /// `Ecs.0005` with 403: the primary NIC cannot be deleted (the contract's T2.8).
    PrimaryNic,
    /// `VPC.0101`: a VPC API parameter is invalid.
    VpcInvalid,
    /// `VPC.0007`: the project of the credential differs from the project in the URL.
    VpcTenantMismatch,
    /// `VPC.2701` with 403: the project is unknown or the caller may not use it.
    VpcForbidden,
    /// `VPC.0003` with 404: no VPC with that id.
    VpcNotFound,
    /// `VPC.0202` with 404: no subnet with that id.
    VpcSubnetNotFound,
    /// `VPC.2500`: a port parameter is invalid.
    PortInvalid,
    /// `VPC.2500`: the port is a server's NIC or another service's, and cannot be deleted.
    PortInUse,
    /// `VPC.2501` with 404: no port with that id in this project.
    PortNotFound,
    /// `VPC.0701` with 409: the address is already held by a port of the subnet.
    VpcIpInUse,
    /// `VPC.0703` with 409: the subnet has no free address left.
    VpcSubnetFull,
    /// `VPC.0601`: a security group or rule parameter is invalid.
    SecurityGroupInvalid,
    /// `VPC.0602` with 404: no security group with that id in this project.
    SecurityGroupNotFound,
    /// `VPC.0602` with 409: the security group is on a port (or is the project's default).
    SecurityGroupInUse,
    /// `VPC.0603` with 404: no security group rule with that id in this project.
    SecurityGroupRuleNotFound,
    /// `VPC.0604` with 409: the group already has a rule allowing the same traffic.
    SecurityGroupRuleExists,
    /// `VPC.0702` with 404: no private IP with that id in this project.
    PrivateIpNotFound,
    /// `Ecs.0307`: a NIC or port named by its id is not a port of the project.
    NicPortNotFound,
    /// `Ecs.0919`: the port to attach is a NIC of a server already, or owned by a device.
    NicPortInUse,
    /// `Ecs.0086`: the operation takes only the primary NIC.
    NotPrimaryNic,
    /// `Console.0401` with 401: a console call without an open session.
    ConsoleSignedOut,
    /// `Console.0403` with 403: a state-changing console call without its session's CSRF token.
    ConsoleCsrf,
    /// `Ecs.0314`: a server create names a key pair the project does not have.
    KeypairNotFound,
    /// `Ecs.0005` with 409: a key pair create of a name the project already has (Nova's
    /// conflict; ECS has no key pair path of its own).
    KeypairExists,
    /// `Ecs.0005` with 409: a security group named by a name several groups of the project
    /// have (Nova's `NoUniqueMatch`).
    SecurityGroupAmbiguous,
    /// `Ecs.0014`: the security group to remove is on none of the server's NICs.
    SecurityGroupNotOnServer,
}

impl ErrorCode {
    /// The wire code, the HTTP status and the default message.
    pub const fn wire(self) -> (&'static str, u16, &'static str) {
        use ErrorCode::*;
        match self {
            Internal => ("Common.0001", 500, "System exception."),
            EmptyBody => ("Common.0002", 400, "Request body is null!"),
            JobNotFound => ("Common.0011", 400, "query job fail."),
            QuotaExceeded => ("Ecs.0001", 400, "Insufficient ECS quota."),
            Forbidden => ("Ecs.0003", 403, "You are not permitted to perform this operation."),
            InvalidRequest => ("Ecs.0005", 400, "request body is illegal."),
            BodyTooLarge => ("Ecs.0005", 413, "The request body is too large."),
            ProjectMismatch => ("Ecs.0023", 400, "The project id in the credential differs from the one in the URL."),
            IpInUse => ("Ecs.0010", 400, "The private IP address is already in use."),
            WeakPassword => ("Ecs.0011", 400, "The password does not meet the complexity requirements."),
            SubnetFull => ("Ecs.0012", 400, "Insufficient IP addresses in the subnet."),
            InvalidNetwork => ("Ecs.0014", 400, "Invalid VPC parameters."),
            FlavorNotFound => ("Ecs.0029", 400, "The flavor does not exist."),
            ImageNotFound => ("Ecs.0031", 400, "The image does not exist."),
            ImageNotActive => ("Ecs.0032", 400, "The image is not in active status."),
            SubnetNotFound => ("Ecs.0038", 400, "The subnet does not exist."),
            IpNotInSubnet => ("Ecs.0039", 400, "The IP address is not in the subnet."),
            InvalidDescription => ("Ecs.0041", 400, "Invalid description."),
            TooManyDataDisks => ("Ecs.0042", 400, "Too many data disks."),
            UnknownVolumeType => ("Ecs.0043", 400, "The disk type does not exist."),
            TooManyNics => ("Ecs.0050", 400, "Too many NICs."),
            SubnetNotInVpc => ("Ecs.0064", 400, "The subnet does not belong to the VPC."),
            WrongStatus => ("Ecs.0100", 400, "The ECS status does not meet requirements."),
            ServerNotFound => ("Ecs.0114", 404, "The ECS does not exist."),
            TooManyServers => ("Ecs.0118", 400, "Too many ECSs in one request."),
            ClientTokenReused => ("Ecs.0122", 400, "The client token is used with different parameters."),
            ClientTokenInvalid => ("Ecs.0123", 400, "The client token is not a UUID."),
            ClientTokenExpired => ("Ecs.0124", 400, "The client token has expired."),
            ServerBusy => ("Ecs.0603", 400, "Another operation is running on the ECS. Try again later."),
            ServerLocked => ("Ecs.0605", 400, "The ECS is locked."),
            BatchFailed => ("Ecs.0611", 400, "batch operate fail."),
            FlavorNotAllowed => ("Ecs.0804", 400, "The target flavor is not allowed for this ECS."),
            SameFlavor => ("Ecs.0810", 400, "The target flavor is the same as the current flavor."),
            TooManyTags => ("Ecs.0905", 400, "Too many tags."),
            InvalidTag => ("Ecs.0906", 400, "Invalid tag."),
            DuplicateTagKey => ("Ecs.0908", 400, "Duplicate tag key."),
            InvalidCount => ("Ecs.0913", 400, "Invalid number of ECSs to create."),
            NameTooLong => ("Ecs.0914", 400, "The ECS name is too long."),
            NameInvalid => ("Ecs.0915", 400, "The ECS name contains invalid characters."),
            ResourceNotFound => ("Ecs.1000", 404, "Resource not found."),
            AlreadyDeleting => ("Ecs.1001", 400, "The ECS is already being deleted."),
            GroupQuotaExceeded => ("Ecs.0022", 400, "Insufficient ECS group quota."),
            NoValidHost => ("Ecs.0319", 400, "Insufficient resources for this flavor. Try another flavor."),
            SameHost => {
                ("Ecs.0221", 400, "Cold migration from a dedicated host to the same dedicated host is not supported.")
            }
            StoreFull => ("Common.0503", 503, "The store is out of space."),
            Unavailable => ("Common.0503", 503, "The service is unavailable; try again later."),
            NotAdmin => ("Ecs.0003", 403, "This control action reaches every project: it needs an admin credential."),
            VolumeAlreadyAttached => ("Ecs.0057", 400, "The disk has already been attached to the ECS."),
            VolumeNotAvailable => ("Ecs.0103", 400, "The disk can be attached only when it exists and is available."),
            TooManyVolumes => ("Ecs.0104", 400, "The ECS holds the most disks it can; detach some first."),
            VolumeNotAttached => ("Ecs.0111", 400, "The disk is not attached to the ECS."),
            VolumeOtherZone => ("Ecs.0121", 400, "The disk and the ECS are in different availability zones."),
            EvsMalformed => ("EVS.5400", 400, "Malformed request body."),
            EvsBodyTooLarge => ("EVS.5400", 413, "The request body is too large."),
            EvsInvalidName => ("EVS.1003", 400, "invalid volume name!"),
            EvsInvalidDescription => ("EVS.1004", 400, "invalid volume description!"),
            EvsNothingToUpdate => ("EVS.1007", 400, "volume name and description can not both be empty!"),
            EvsInvalidSize => ("EVS.1010", 400, "invalid volume size!"),
            EvsSizeNotLarger => ("EVS.1015", 400, "new volume Size must be greater than old Size!"),
            EvsInvalidVolumeType => ("EVS.1020", 400, "invalid volume type!"),
            EvsInvalidCount => ("EVS.1021", 400, "the quantity of volume is invalid!"),
            EvsInvalidLimit => ("EVS.1023", 400, "invalid filter limit!"),
            EvsInvalidMarker => ("EVS.1024", 400, "invalid filter marker!"),
            EvsInvalidZone => ("EVS.1036", 400, "invalid availability zone!"),
            EvsInvalidSortKey => ("EVS.1039", 400, "invalid sort_key!"),
            EvsInvalidSortDir => ("EVS.1040", 400, "invalid sort_dir!"),
            EvsDeleteStatus => ("EVS.1046", 400, "volume status must be available or error when delete volume!"),
            EvsExtendStatus => ("EVS.1064", 400, "volume status must be available or in-use when extending!"),
            EvsExtendShared => ("EVS.1065", 400, "multiattach volume status must be available when extending!"),
            EvsForbidden => ("EVS.5403", 403, "Policy check failed."),
            VolumeNotFound => ("EVS.5404", 404, "Resource(Volume, Snapshot, Backup .etc) cound not be found."),
            EvsInternal => ("EVS.5500", 500, "Internal server error."),
            EvsUnavailable => ("EVS.5503", 503, "Service unavailable."),
            SecurityGroupMissing => ("Ecs.0014", 400, "Invalid security group parameters."),
            NicNotOnServer => ("Ecs.0085", 400, "The ECS does not have this NIC."),
            PrimaryNic => ("Ecs.0005", 403, "The primary NIC cannot be deleted."),
            VpcInvalid => ("VPC.0101", 400, "Param is invalid."),
            VpcTenantMismatch => ("VPC.0007", 400, "urlTenantId is not equal tokenTenantId"),
            VpcForbidden => ("VPC.2701", 403, "Token not allowed to do this action."),
            VpcNotFound => ("VPC.0003", 404, "VPC does not exist."),
            VpcSubnetNotFound => ("VPC.0202", 404, "Subnet does not exist."),
            PortInvalid => ("VPC.2500", 400, "Param is invalid."),
            PortInUse => ("VPC.2500", 400, "Param is invalid."),
            PortNotFound => ("VPC.2501", 404, "Port does not exist."),
            VpcIpInUse => ("VPC.0701", 409, "IP is in use."),
            VpcSubnetFull => ("VPC.0703", 409, "No more IP addresses available in the subnet."),
            SecurityGroupInvalid => ("VPC.0601", 400, "Securitygroup param is invalid."),
            SecurityGroupNotFound => ("VPC.0602", 404, "Security group does not exist."),
            SecurityGroupInUse => ("VPC.0602", 409, "Security group is in use."),
            SecurityGroupRuleNotFound => ("VPC.0603", 404, "Security group rule does not exist."),
            SecurityGroupRuleExists => ("VPC.0604", 409, "Security group rule already exists."),
            PrivateIpNotFound => ("VPC.0702", 404, "Private IP does not exist."),
            NicPortNotFound => ("Ecs.0307", 400, "Failed to query the port."),
            NicPortInUse => ("Ecs.0919", 400, "The NIC has been attached to another instance."),
            NotPrimaryNic => ("Ecs.0086", 400, "The interface is not the primary interface."),
            ConsoleSignedOut => ("Console.0401", 401, "Sign in to the console: no session, or it has expired."),
            ConsoleCsrf => (
                "Console.0403",
                403,
                "A console call that changes something must carry its session's X-Ecsd-Csrf header.",
            ),
            KeypairNotFound => ("Ecs.0314", 400, "Key pair does not exist."),
            KeypairExists => ("Ecs.0005", 409, "Key pair already exists."),
            SecurityGroupAmbiguous => ("Ecs.0005", 409, "Several security groups have this name."),
            SecurityGroupNotOnServer => ("Ecs.0014", 400, "The security group is not on the ECS."),
        }
    }

    pub const fn code(self) -> &'static str {
        self.wire().0
    }

    pub const fn http_status(self) -> u16 {
        self.wire().1
    }
}

/// An error with its catalogue code and a message that names the cause. A batch refused
/// because of individual servers (`Ecs.0611`) carries one refusal per failed server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub refusals: Vec<Refusal>,
    /// A status and code a fault rule asked for, answered instead of the catalogue's.
    pub injected: Option<Injected>,
}

/// One server a batch refused, for the `internalError` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub server_id: String,
    pub error: Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    pub status: u16,
    pub code: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), refusals: Vec::new(), injected: None }
    }

    /// An error a fault rule injects, with any status and code.
    pub fn injected(status: u16, code: &str, message: impl Into<String>) -> Self {
        Error {
            injected: Some(Injected { status, code: code.to_string() }),
            ..Error::new(ErrorCode::InvalidRequest, message)
        }
    }

    /// The code on the wire: the injected one, or the catalogue's.
    pub fn wire_code(&self) -> &str {
        self.injected.as_ref().map_or(self.code.code(), |i| i.code.as_str())
    }

    pub fn http_status(&self) -> u16 {
        self.injected.as_ref().map_or(self.code.http_status(), |i| i.status)
    }

    /// The code with its catalogue message.
    pub fn of(code: ErrorCode) -> Self {
        Error::new(code, code.wire().2)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidRequest, message)
    }

    /// An internal failure. The cause is logged; the caller sees only the catalogue message,
    /// since store errors can carry paths and SQL that are none of the client's business.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Error::of(ErrorCode::Internal)
    }

    pub fn server_not_found(id: &str) -> Self {
        Error::new(ErrorCode::ServerNotFound, format!("Instance[{id}] could not be found."))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.wire_code(), self.message)
    }
}

impl std::error::Error for Error {}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Error::of(code)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
