// configs/k8s: the Indexed Job's shards and the merge step are wired to each other and to our options.
import Foundation
import XCTest
@testable import MetronomeCore

final class KubernetesManifestTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func manifests() throws -> [String: [[String: Any]]] {
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                    ["python3", Self.repository.appendingPathComponent("Tests/K8s/manifests_to_json.py").path,
                                     Self.repository.appendingPathComponent("configs/k8s").path])
        if result.status == 3 { throw XCTSkip(result.stderr) }
        XCTAssertEqual(result.status, 0, result.stderr)
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: [[String: Any]]]
    }

    /// `sh -c` words: spaces split, single quotes keep, `${NAME}` from `environment`.
    func words(_ script: String, _ environment: [String: String]) -> [String] {
        var expanded = script
        for (name, value) in environment { expanded = expanded.replacingOccurrences(of: "${\(name)}", with: value) }
        var words: [String] = [], word = "", quoted = false, inWord = false
        for character in expanded {
            if character == "'" { quoted.toggle(); inWord = true; continue }
            if character.isWhitespace && !quoted {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else {
                word.append(character)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }

    func container(_ job: [String: Any]) -> [String: Any] {
        let spec = job["spec"] as! [String: Any]
        let pod = (spec["template"] as! [String: Any])["spec"] as! [String: Any]
        return (pod["containers"] as! [[String: Any]])[0]
    }

    func testShardsJobIsAnIndexedJobWhoseIndexIsTheShard() throws {
        let files = try manifests()
        let job = try XCTUnwrap(files["shards-job.yaml"]?.first)
        XCTAssertEqual(job["kind"] as? String, "Job")
        let spec = job["spec"] as! [String: Any]
        XCTAssertEqual(spec["completionMode"] as? String, "Indexed")
        let completions = try XCTUnwrap(spec["completions"] as? Int)
        XCTAssertEqual(spec["parallelism"] as? Int, completions, "every shard must run at once")
        XCTAssertEqual(spec["backoffLimit"] as? Int, 0, "a shard retried later would not share the schedule")
        let main = container(job)
        let script = try XCTUnwrap((main["args"] as? [String])?.first)
        let mount = ((main["volumeMounts"] as! [[String: Any]])[0]["mountPath"] as! String)
        var outDirectories: Set<String> = []
        for index in 0..<completions {
            let command = words(script, ["JOB_COMPLETION_INDEX": String(index), "START_AT": "1764571200"])
            XCTAssertEqual(Array(command.prefix(3)), ["exec", "metronome", "run"])
            let options = try OptionTable.parse(Array(command.dropFirst(3)))
            XCTAssertEqual(options.shard.description, "\(index)/\(completions)", "the /N of --shard must equal completions")
            XCTAssertEqual(options.startAtUnixS, 1_764_571_200)
            XCTAssertEqual(options.name, "shard-\(index)")
            XCTAssertNotNil(try? options.ratePlan())
            outDirectories.insert(options.outDirectory)
        }
        XCTAssertEqual(outDirectories, [mount], "every shard writes to the shared volume")
        let env = main["env"] as! [[String: Any]]
        XCTAssertTrue(env.contains { $0["name"] as? String == "START_AT" })
    }

    func testMergeJobReadsTheShardsFromTheSameVolume() throws {
        let files = try manifests()
        let shards = try XCTUnwrap(files["shards-job.yaml"]?.first)
        let merge = try XCTUnwrap(files["merge-job.yaml"]?.first)
        let claim = { (job: [String: Any]) -> String in
            let pod = ((job["spec"] as! [String: Any])["template"] as! [String: Any])["spec"] as! [String: Any]
            return ((pod["volumes"] as! [[String: Any]])[0]["persistentVolumeClaim"] as! [String: Any])["claimName"] as! String
        }
        XCTAssertEqual(claim(merge), claim(shards))
        XCTAssertEqual(files["results-pvc.yaml"]?.first?["kind"] as? String, "PersistentVolumeClaim")
        XCTAssertEqual((files["results-pvc.yaml"]?.first?["metadata"] as? [String: Any])?["name"] as? String, claim(shards))
        let command = words((container(merge)["args"] as! [String])[0], [:])
        XCTAssertEqual(Array(command.prefix(3)), ["exec", "metronome", "merge"])
        let parsed = try FileCommandArguments(Array(command.dropFirst(3)), command: "metronome merge", flags: ["json"])
        XCTAssertEqual(parsed.paths, ["/results/shard-*_summary.json"], "the glob of the shards' --name")
        XCTAssertEqual(parsed.outDirectory, "/results")
    }
}
