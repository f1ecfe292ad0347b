//! Container manifests: Dockerfiles (base images, exposed ports) and Compose files
//! (services, images).

use super::Manifest;

pub(super) fn dockerfile(m: &mut Manifest, text: &str) {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut stages: Vec<String> = Vec::new();
    for line in joined.lines() {
        let line = line.trim();
        let mut words = line.split_whitespace();
        let Some(instr) = words.next() else { continue };
        if instr.eq_ignore_ascii_case("FROM") {
            let args: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
            let Some(image) = args.first() else { continue };
            // `FROM builder` refers to an earlier stage, not an image.
            if !stages.iter().any(|s| s.eq_ignore_ascii_case(image)) {
                m.images.push(image.to_string());
            }
            if args.len() >= 3 && args[1].eq_ignore_ascii_case("AS") {
                stages.push(args[2].to_string());
            }
        } else if instr.eq_ignore_ascii_case("EXPOSE") {
            m.ports.extend(words.map(str::to_string));
        }
    }
}

pub(super) fn compose(m: &mut Manifest, text: &str) -> Result<(), String> {
    let doc: serde_norway::Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    if let Some(services) = doc.get("services").and_then(|s| s.as_mapping()) {
        for (name, svc) in services {
            if let Some(name) = name.as_str() {
                m.services.push(name.to_string());
            }
            if let Some(image) = svc.get("image").and_then(|i| i.as_str()) {
                m.images.push(image.to_string());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{parse, ManifestKind};

    #[test]
    fn dockerfile_and_compose() {
        let m = parse(
            ManifestKind::Dockerfile,
            "Dockerfile",
            "FROM --platform=$BUILDPLATFORM rust:1.82 AS builder\nRUN cargo build\n\
             FROM debian:bookworm-slim\nCOPY --from=builder /a /a\nEXPOSE 8080 9090/udp\n\
             FROM builder AS test\n",
        );
        assert_eq!(m.images, vec!["rust:1.82", "debian:bookworm-slim"]);
        assert_eq!(m.ports, vec!["8080", "9090/udp"]);
        let c = parse(
            ManifestKind::DockerCompose,
            "docker-compose.yml",
            "services:\n  db:\n    image: postgres:16\n  api:\n    build: .\n",
        );
        assert_eq!(c.services, vec!["db", "api"]);
        assert_eq!(c.images, vec!["postgres:16"]);
    }
}
